"""The batch consumer's Kafka glue, alone (a fake consumer, no broker): the offsets a
batch commits, only on the partitions still assigned, and the topics read first."""

import asyncio
from collections.abc import Set

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from forbedring_chassis.consumer.kafka import ReadFirst, commit_offsets, next_offsets


def _record(topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=b"",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=[],
    )


A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
BATCH = [
    _record("a", 0, 10),
    _record("b", 0, 3),
    _record("a", 1, 5),
    _record("a", 0, 11),
    _record("a", 0, 12),
    _record("b", 0, 4),
]


class _Consumer:
    """What `commit_offsets` and `ReadFirst` use of an aiokafka consumer."""

    def __init__(self, assigned: Set[TopicPartition], error: Exception | None = None) -> None:
        self.assigned = set(assigned)
        self.error = error
        self.committed: list[dict[TopicPartition, int]] = []
        self.positions: dict[TopicPartition, int] = {}
        self.ends: dict[TopicPartition, int] = {}
        self.paused: set[TopicPartition] = set()
        self.resumed: list[TopicPartition] = []
        self.resuming = asyncio.Event()
        self.polled = asyncio.Event()

    def assignment(self) -> Set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.error is not None:
            raise self.error
        self.committed.append(offsets)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)
        self.resumed.extend(partitions)
        self.resuming.set()

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.ends[tp] for tp in partitions}

    async def position(self, partition: TopicPartition) -> int:
        self.polled.set()
        return self.positions.get(partition, 0)

    async def polls(self, count: int) -> None:
        """Return once the listener has asked for a position `count` more times."""
        for _ in range(count):
            self.polled.clear()
            await asyncio.wait_for(self.polled.wait(), 2)


def test_each_partition_commits_past_its_last_record() -> None:
    assert next_offsets(BATCH) == {A0: 13, A1: 6, B0: 5}


async def test_a_batch_commits_past_its_records_on_every_partition_assigned() -> None:
    consumer = _Consumer({A0, A1, B0})
    await commit_offsets(consumer, BATCH)
    assert consumer.committed == [{A0: 13, A1: 6, B0: 5}]


async def test_a_partition_revoked_meanwhile_is_left_to_its_new_member() -> None:
    consumer = _Consumer({A0, TopicPartition("c", 0)})
    await commit_offsets(consumer, BATCH)
    assert consumer.committed == [{A0: 13}]


async def test_nothing_is_committed_when_no_partition_of_the_batch_is_assigned() -> None:
    consumer = _Consumer(set(), error=AssertionError("commit must not be called"))
    await commit_offsets(consumer, BATCH)
    assert consumer.committed == []


async def test_a_commit_refused_by_the_broker_is_logged_not_raised() -> None:
    for error in (CommitFailedError("rebalanced"), IllegalStateError("no longer assigned")):
        await commit_offsets(_Consumer({A0}, error=error), BATCH)


async def test_the_other_topics_wait_until_the_first_are_read_to_their_end() -> None:
    consumer = _Consumer({A0, A1, B0})
    consumer.ends = {B0: 4}
    listener = ReadFirst(frozenset({"b"}), lambda: consumer)
    await listener.on_partitions_assigned([A0, A1, B0])
    assert consumer.paused == {A0, A1}
    consumer.positions[B0] = 3
    await consumer.polls(2)  # the second one saw 3: still short of the end
    assert consumer.paused == {A0, A1}
    consumer.positions[B0] = 4
    await asyncio.wait_for(consumer.resuming.wait(), 2)
    assert consumer.paused == set()
    assert sorted(consumer.resumed) == [A0, A1]


async def test_only_the_partitions_still_assigned_are_resumed() -> None:
    consumer = _Consumer({A0, A1, B0})
    consumer.ends = {B0: 1}
    listener = ReadFirst(frozenset({"b"}), lambda: consumer)
    await listener.on_partitions_assigned([A0, A1, B0])
    consumer.assigned = {A1, B0}
    consumer.positions[B0] = 1
    await asyncio.wait_for(consumer.resuming.wait(), 2)
    assert consumer.resumed == [A1]


async def test_nothing_waits_when_an_assignment_has_no_first_topic_or_nothing_else() -> None:
    consumer = _Consumer({A0, A1, B0})
    listener = ReadFirst(frozenset({"b"}), lambda: consumer)
    await listener.on_partitions_assigned([A0, A1])
    await listener.on_partitions_assigned([B0])
    assert consumer.paused == set()


async def test_a_revocation_stops_the_wait() -> None:
    consumer = _Consumer({A0, B0})
    consumer.ends = {B0: 1}
    listener = ReadFirst(frozenset({"b"}), lambda: consumer)
    await listener.on_partitions_assigned([A0, B0])
    (waiting,) = [t for t in asyncio.all_tasks() if "_resume_when_read" in repr(t.get_coro())]
    await listener.on_partitions_revoked([A0, B0])
    consumer.positions[B0] = 1
    await asyncio.gather(waiting, return_exceptions=True)
    assert waiting.cancelled()
    assert consumer.resumed == [], "the next assignment decides what waits"
