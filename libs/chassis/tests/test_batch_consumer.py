"""The batch consumer's parts put together over fakes (no broker, no database): a fake
database whose transactions keep their writes only when they commit, and a log of what
happened in which order (commits, rollbacks, dead letters, offset commits).

The same failure paths run on the real broker and PostgreSQL in
`tests/test_batch_consumer_failures.py`; here each is pinned down to the step."""

import asyncio
import contextlib
import operator
from collections.abc import AsyncIterator, Callable, Sequence, Set
from typing import Any, cast

from aiokafka import ConsumerRecord, TopicPartition
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.consumer import BatchConsumer
from forbedring_chassis.consumer.inbox import Inbox
from forbedring_chassis.consumer.policy import Attempts, DeadLetters
from forbedring_chassis.consumer.writer import (
    BatchWriter,
    Decoded,
    SliceApplied,
    Tally,
    take_digested,
)
from forbedring_chassis.db import Sessions
from forbedring_chassis.offload import Digested, Offload
from forbedring_contracts import envelope, examples, topics

TOPIC = f"test.{topics.PERIOD_CLOSED}"
NAMES = {TOPIC: topics.PERIOD_CLOSED}
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


def _record(
    offset: int, name: str, *, partition: int = 0, value: bytes | None = None
) -> ConsumerRecord[bytes, bytes]:
    """Period `name` closed; the event's id is `name` too (an event of instant precision
    may have any id), so the tests can name the events by it."""
    event = examples.PERIOD_CLOSED.model_copy(update={"period_id": name})
    encoded = envelope.encode(event, event_id=name)
    return ConsumerRecord(
        topic=TOPIC,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=encoded.key,
        value=encoded.value if value is None else value,
        checksum=None,
        serialized_key_size=len(encoded.key),
        serialized_value_size=len(encoded.value),
        headers=list(encoded.headers),
    )


def _units(events: Sequence[Any]) -> list[str]:
    """The events' names (see `_record`)."""
    return [event.period_id for event in events]


class _Database:
    """The inbox's ids and the handler's effects, kept only when a transaction commits."""

    def __init__(self, processed: Set[str] = frozenset()) -> None:
        self.processed = set(processed)
        self.applied: list[str] = []
        self.log: list[str] = []

    def __call__(self) -> "_Session":
        return _Session(self)


class _Session:
    def __init__(self, database: _Database) -> None:
        self.database = database
        self.processed: set[str] = set()
        self.applied: list[str] = []

    async def __aenter__(self) -> "_Session":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator["_Session"]:
        try:
            yield self
        except BaseException:
            self.database.log.append("rollback")
            raise
        self.database.processed |= self.processed
        self.database.applied += self.applied
        self.database.log.append("commit")


def _fake(session: AsyncSession) -> _Session:
    return cast(_Session, session)


class _Inbox(Inbox):
    def __init__(self) -> None:
        super().__init__("test-group")

    async def first_times(self, session: AsyncSession, event_ids: Sequence[str]) -> set[str]:
        fake = _fake(session)
        fresh = {i for i in event_ids if i not in fake.database.processed | fake.processed}
        fake.processed |= fresh
        return fresh


class _Handler:
    """Applies the events' units; `fail(units)` may return an error to raise instead."""

    def __init__(self, fail: Callable[[list[str]], Exception | None] = lambda _: None) -> None:
        self.fail = fail
        self.calls: list[list[str]] = []

    async def __call__(self, session: AsyncSession, events: Sequence[Any]) -> None:
        units = _units(events)
        self.calls.append(units)
        if (error := self.fail(units)) is not None:
            raise error
        _fake(session).applied.extend(units)


class _Kafka:
    """The aiokafka consumer the batch came from; refuses the first `refusals` commits."""

    def __init__(self, database: _Database, refusals: int = 0) -> None:
        self.database = database
        self.refusals = refusals
        self.committed: list[dict[TopicPartition, int]] = []

    def assignment(self) -> Set[TopicPartition]:
        return {P0, P1}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.refusals:
            self.refusals -= 1
            self.database.log.append("offsets refused")
            raise RuntimeError("unforeseen")
        self.database.log.append("offsets")
        self.committed.append(offsets)


class _Broker:
    def __init__(self, database: _Database) -> None:
        self.database = database
        self.dead_letters: list[dict[str, str]] = []

    async def publish(
        self, message: bytes, topic: str, *, key: Any, headers: dict[str, str]
    ) -> None:
        self.database.log.append("dead-letter")
        self.dead_letters.append(headers)


def _writer(database: _Database, handler: _Handler, **options: Any) -> BatchWriter:
    return BatchWriter(
        sessions=cast(Sessions, database),
        inbox=_Inbox(),
        handler=handler,
        names=NAMES,
        slice_records=options.pop("slice_records", 2),
        label="t",
        **options,
    )


def _consumer(
    database: _Database, handler: _Handler, *, max_attempts: int = 3, **options: Any
) -> tuple[BatchConsumer, _Broker]:
    broker = _Broker(database)
    after_commit = options.pop("after_commit", None)
    consumer = BatchConsumer(
        _writer(database, handler, **options),
        attempts=Attempts(max_attempts, backoff_s=0),
        dead_letters=DeadLetters(broker.publish, topic="test.dlt", group_id="g", names=NAMES),
        after_commit=after_commit,
        grace_s=1,
    )
    return consumer, broker


async def test_a_batch_applies_each_new_event_once_in_order_then_commits_its_offsets() -> None:
    database = _Database(processed={"u4"})
    handler = _Handler()
    consumer, _ = _consumer(database, handler)
    kafka = _Kafka(database)
    records = [
        _record(10, "u1"),
        _record(11, "u3"),
        _record(12, "u3"),  # the same event again, in the same slice
        _record(20, "u2", partition=1),
        _record(21, "u4", partition=1),  # applied before
        _record(13, "u5"),
        _record(14, "u1"),  # again, in a later slice
    ]
    await consumer.process(records, None, kafka)
    assert database.applied == ["u1", "u3", "u2", "u5"]
    # Slices (0,1), (1,3), (3,5), (5,6), (6,7): the last has nothing new, so no call.
    assert handler.calls == [["u1"], ["u3"], ["u2"], ["u5"]]
    assert database.log == ["commit", "offsets"], "one transaction; offsets only after it"
    assert kafka.committed == [{P0: 15, P1: 22}]


async def test_an_undecodable_record_is_dead_lettered_after_the_commit_and_the_rest_applied() -> (
    None
):
    database = _Database()
    consumer, broker = _consumer(database, _Handler())
    records = [_record(0, "u1"), _record(1, "u2", value=b"{not json"), _record(2, "u3")]
    await consumer.process(records, None, _Kafka(database))
    assert database.applied == ["u1", "u3"]
    assert database.log == ["commit", "dead-letter", "offsets"]
    (headers,) = broker.dead_letters
    assert headers["dlt_error"].startswith("invalid event: ")
    assert headers["dlt_original_offset"] == "1"
    assert headers["ce_id"] == "u2", "the record's own headers go along"


async def test_a_failure_in_passing_is_retried_in_place_and_applies_everything_once() -> None:
    database = _Database()
    failures = iter([RuntimeError("in passing")])
    consumer, broker = _consumer(database, _Handler(lambda _: next(failures, None)))
    await consumer.process([_record(0, "u1"), _record(1, "u2")], None, _Kafka(database))
    assert database.applied == ["u1", "u2"]
    assert database.log == ["rollback", "commit", "offsets"]
    assert broker.dead_letters == []
    assert consumer.attempts.counts == {}


async def test_a_poison_event_sends_its_batch_event_by_event_and_only_it_is_dead_lettered() -> None:
    database = _Database()
    handler = _Handler(lambda units: RuntimeError("never") if "u3" in units else None)
    consumer, broker = _consumer(database, handler, max_attempts=3)
    records = [_record(n, f"u{n}") for n in range(1, 5)]
    await consumer.process(records, None, _Kafka(database))
    assert database.applied == ["u1", "u2", "u4"]
    assert database.log == [
        *["rollback"] * 3,  # the batch, as many times as an event may fail
        "commit",  # u1 alone
        "commit",  # u2 alone
        *["rollback"] * 3,  # u3 alone, with attempts of its own
        "dead-letter",
        "commit",  # u4 alone
        "offsets",  # once, past them all
    ]
    (headers,) = broker.dead_letters
    assert headers["dlt_error"] == "RuntimeError: never"
    assert headers["dlt_original_offset"] == "3"
    assert consumer.attempts.counts == {}


async def test_a_poison_event_first_in_its_batch_gets_as_many_attempts_alone() -> None:
    # The batch's failures are counted against its first record: they start afresh.
    database = _Database()
    handler = _Handler(lambda units: RuntimeError("never") if "u1" in units else None)
    consumer, broker = _consumer(database, handler, max_attempts=2)
    await consumer.process([_record(1, "u1"), _record(2, "u2")], None, _Kafka(database))
    assert database.log == [
        *["rollback"] * 2,
        *["rollback"] * 2,
        "dead-letter",
        "commit",
        "offsets",
    ]
    assert database.applied == ["u2"]
    assert len(broker.dead_letters) == 1


async def test_an_outage_is_waited_out_with_the_batch_whole() -> None:
    database = _Database()
    failures = iter([ConnectionError("the database went away")] * 5)
    consumer, broker = _consumer(database, _Handler(lambda _: next(failures, None)), max_attempts=2)
    await consumer.process([_record(0, "u1"), _record(1, "u2")], None, _Kafka(database))
    assert database.log == [*["rollback"] * 5, "commit", "offsets"], "never event by event"
    assert database.applied == ["u1", "u2"]
    assert broker.dead_letters == []


async def test_after_commit_follows_the_offsets_with_what_was_applied_its_failure_logged() -> None:
    database = _Database(processed={"u2"})
    seen: list[list[str]] = []

    async def after_commit(applied: Sequence[Any]) -> None:
        database.log.append("after-commit")
        seen.append(_units(applied))
        raise RuntimeError("a notification failed")

    consumer, _ = _consumer(database, _Handler(), after_commit=after_commit)
    await consumer.process([_record(0, "u1"), _record(1, "u2")], None, _Kafka(database))
    assert database.log == ["commit", "offsets", "after-commit"], "not retried"
    assert seen == [["u1"]]
    await consumer.process([_record(0, "u1"), _record(1, "u2")], None, _Kafka(database))
    assert seen == [["u1"]], "nothing applied, nothing to tell"


async def test_an_unforeseen_failure_starts_the_batch_over_and_applies_nothing_twice() -> None:
    database = _Database()
    handler = _Handler()
    consumer, _ = _consumer(database, handler)
    kafka = _Kafka(database, refusals=1)
    await consumer.process([_record(0, "u1"), _record(1, "u2")], None, kafka)
    assert database.log == ["commit", "offsets refused", "commit", "offsets"]
    assert database.applied == ["u1", "u2"]
    assert handler.calls == [["u1", "u2"]], "the second time, every id was in the inbox"
    assert kafka.committed == [{P0: 2}]


async def test_batches_taken_are_applied_in_the_background_one_at_a_time_in_order() -> None:
    database = _Database()
    gate = asyncio.Event()

    class Gated(_Handler):
        async def __call__(self, session: AsyncSession, events: Sequence[Any]) -> None:
            if "u1" in _units(events):
                await gate.wait()
            await super().__call__(session, events)

    consumer, _ = _consumer(database, Gated(), slice_records=10)
    kafka = _Kafka(database)
    await consumer.take([], kafka)  # an empty fetch: nothing to do
    await asyncio.wait_for(consumer.take([_record(0, "u1")], kafka), 1)
    await asyncio.wait_for(consumer.take([_record(1, "u2")], kafka), 1)
    assert database.log == [], "both handlers returned while the first batch waits"
    gate.set()
    await consumer.drain()
    assert database.applied == ["u1", "u2"]
    assert database.log == ["commit", "offsets", "commit", "offsets"]
    assert kafka.committed == [{P0: 1}, {P0: 2}]


def _unused_digest(context: Any, events: Sequence[Any]) -> tuple[Any, Sequence[int]]:
    raise AssertionError("the test hands over the workers' results itself")


async def _no_context(session: AsyncSession) -> None:
    return None


def _offload() -> Offload:
    async def apply(session: AsyncSession, digest: list[str]) -> None:
        _fake(session).applied.extend(f"digest {unit}" for unit in digest)

    return Offload(
        topics=(topics.PERIOD_CLOSED,),
        digest=_unused_digest,
        context=_no_context,
        merge=operator.add,
        apply=apply,
        workers=1,
    )


def _digesting(*results: Digested) -> "list[asyncio.Future[Digested] | None]":
    futures: list[asyncio.Future[Digested] | None] = []
    for result in results:
        future: asyncio.Future[Digested] = asyncio.get_running_loop().create_future()
        future.set_result(result)
        futures.append(future)
    return futures


RECORDS = [_record(n, f"u{n}") for n in range(1, 5)]
DIGESTED = Digested(digest=["u1", "u2"], ids=["u1", "u2"], left=[2, 3])
"""The workers took u1 and u2 and left u3 and u4 to the consumer."""


async def test_the_workers_digest_is_applied_once_after_the_other_events() -> None:
    database = _Database()
    handler = _Handler()
    writer = _writer(database, handler, slice_records=4, offload=_offload())
    applied = await writer.pipelined(RECORDS, Decoded(), _digesting(DIGESTED))
    assert handler.calls == [["u3", "u4"]]
    assert database.applied == ["u3", "u4", "digest u1", "digest u2"]
    assert database.processed == {"u1", "u2", "u3", "u4"}
    assert _units(applied[:2]) == ["u3", "u4"]
    assert applied[2:] == [["u1", "u2"]], "after_commit gets the digest too"


async def test_a_digest_with_an_event_applied_before_is_dropped_for_the_handler() -> None:
    database = _Database(processed={"u1"})
    handler = _Handler()
    writer = _writer(database, handler, slice_records=4, offload=_offload())
    await writer.pipelined(RECORDS, Decoded(), _digesting(DIGESTED))
    assert handler.calls == [["u3", "u4", "u2"]], "the digested events decoded again"
    assert database.applied == ["u3", "u4", "u2"]


def test_a_digest_takes_its_records_and_leaves_the_rest_to_decode() -> None:
    seen = {"u0"}
    taken, rest = take_digested(RECORDS, DIGESTED, seen)
    assert taken is not None
    assert (taken.digest, taken.ids, taken.records) == (["u1", "u2"], ["u1", "u2"], RECORDS[:2])
    assert rest == RECORDS[2:]
    assert seen == {"u0", "u1", "u2"}


def test_a_digest_repeating_an_event_seen_in_the_batch_is_not_taken() -> None:
    seen = {"u2"}
    taken, rest = take_digested(RECORDS, DIGESTED, seen)
    assert taken is None
    assert rest == RECORDS, "decoded here, where the repeated event is dropped"
    assert seen == {"u2"}


def test_the_slices_digests_are_merged_and_counted() -> None:
    tally = Tally(operator.add)
    tally.add(SliceApplied(["e1"], ["a"], 1))
    tally.add(SliceApplied([]))
    tally.add(SliceApplied(["e2", "e3"], ["b", "c"], 2))
    assert tally.events == ["e1", "e2", "e3"]
    assert tally.digest == ["a", "b", "c"]
    assert (tally.applied, tally.digested) == (6, 3)
