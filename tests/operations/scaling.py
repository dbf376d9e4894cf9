"""Helpers for the scaling test: the consumer group as the broker sees it, and how far it
has committed, read with the admin API (as KEDA's kafka scaler reads lag)."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment


@dataclass(frozen=True)
class GroupState:
    state: str
    assignment: dict[str, frozenset[int]]
    """member id -> the partitions of the watched topic assigned to it."""

    def owns_all(self, partitions: int, members: int) -> bool:
        """Stable, with exactly `members` members that between them own every partition once."""
        owned = [p for parts in self.assignment.values() for p in parts]
        return (
            self.state == "Stable"
            and len(self.assignment) == members
            and sorted(owned) == list(range(partitions))
        )


class GroupWatch:
    """Reads a consumer group's membership and committed offsets for one topic."""

    def __init__(self, servers: str, group: str, topic: str) -> None:
        self.group = group
        self.topic = topic
        self._admin = AIOKafkaAdminClient(bootstrap_servers=servers)
        self._reader = AIOKafkaConsumer(bootstrap_servers=servers)

    async def __aenter__(self) -> GroupWatch:
        await self._admin.start()
        await self._reader.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._reader.stop()
        await self._admin.close()

    async def state(self) -> GroupState:
        (response,) = await self._admin.describe_consumer_groups([self.group])
        (group,) = response.groups
        _error, _group_id, state, _protocol_type, _protocol, members, *_rest = group
        assignment: dict[str, frozenset[int]] = {}
        for member in members:
            member_id, raw = member[0], member[-1]
            partitions: set[int] = set()
            if raw:
                decoded = ConsumerProtocolMemberAssignment.decode(raw)
                for topic, numbers in decoded.assignment:
                    if topic == self.topic:
                        partitions.update(numbers)
            assignment[str(member_id)] = frozenset(partitions)
        return GroupState(state=str(state), assignment=assignment)

    async def partitions(self) -> list[TopicPartition]:
        (described,) = await self._admin.describe_topics([self.topic])
        return [TopicPartition(self.topic, p["partition"]) for p in described["partitions"]]

    async def end_offsets(self) -> dict[int, int]:
        ends = await self._reader.end_offsets(await self.partitions())
        return {tp.partition: offset for tp, offset in ends.items()}

    async def committed(self) -> dict[int, int]:
        offsets = await self._admin.list_consumer_group_offsets(self.group)
        return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == self.topic}

    async def reached(self, targets: dict[int, int]) -> bool:
        """The group has committed at least `targets` (partition -> offset) everywhere."""
        committed = await self.committed()
        return all(committed.get(p, 0) >= offset for p, offset in targets.items())
