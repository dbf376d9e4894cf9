"""Rebuild a period's counts from the Kafka log and compare the snapshot with the stored one.

Reads period-opened and response-submitted from the earliest offset up to the end
offsets seen at the start (the topics keep 400 days), de-duplicates by event id exactly
as the consumer does, counts into fresh in-memory counters with the same domain code,
and builds the snapshot. Integer counters make the result independent of the order the
log is read in, so a healthy service's snapshot and the rebuilt one are equal byte for
byte; any difference means lost or doubled events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer

from forbedring_aggregation import repository
from forbedring_aggregation.counting import layout_of
from forbedring_aggregation.domain.scoring import Layout, tally_into
from forbedring_aggregation.domain.snapshot import PeriodUnit, UnitCounters, build_snapshot
from forbedring_aggregation.domain.suppression import SuppressionMethod
from forbedring_aggregation.finalisation import CURRENT_METHOD, snapshot_values
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis import wire
from forbedring_chassis.db import make_engine, make_sessions
from forbedring_chassis.testing import unique_name
from forbedring_contracts import topics
from forbedring_contracts.events import PeriodOpened, ResponseSubmitted, results_checksum


@dataclass(frozen=True)
class Rebuilt:
    period_id: str
    responses: int
    duplicates: int
    values: list[tuple[str, bytes]]
    checksum: str
    stored_checksum: str | None

    @property
    def identical(self) -> bool | None:
        return None if self.stored_checksum is None else self.checksum == self.stored_checksum

    def report(self) -> dict[str, Any]:
        return {
            "period_id": self.period_id,
            "responses": self.responses,
            "duplicates_skipped": self.duplicates,
            "unit_count": len(self.values),
            "checksum": self.checksum,
            "stored_checksum": self.stored_checksum,
            "identical": self.identical,
        }


async def _read_all(settings: AggregationSettings, topic: str) -> list[Any]:
    """Every record of `topic` from the earliest offset to the end offsets seen now.
    No consumer group: every partition is assigned, nothing is committed."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=unique_name("forbedring-rebuild"),
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    try:
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        remaining = {tp for tp in partitions if ends[tp] > await consumer.position(tp)}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)
            for tp, got in batch.items():
                records.extend(r for r in got if r.offset < ends[tp])
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return records
    finally:
        await consumer.stop()


def _decode(record: Any, topic: str) -> wire.Envelope | None:
    try:
        return wire.decode(record.value, list(record.headers or ()), key=record.key, topic=topic)
    except wire.InvalidEvent:
        return None  # the consumer dead-letters these; they never counted


async def rebuild(settings: AggregationSettings, period_id: str) -> Rebuilt:
    opened: PeriodOpened | None = None
    for record in await _read_all(settings, topics.PERIOD_OPENED):
        envelope = _decode(record, topics.PERIOD_OPENED)
        event = envelope.event if envelope is not None else None
        if isinstance(event, PeriodOpened) and event.period_id == period_id:
            opened = event
            break  # the first period-opened wins, as in the service
    if opened is None:
        raise LookupError(f"no period-opened for period {period_id} on the log")
    layout: Layout = layout_of(opened.questionnaire)
    needle = f'"period_id":"{period_id}"'.encode()
    seen: set[str] = set()
    duplicates = 0
    counters: dict[str, tuple[int, list[int]]] = {}
    for record in await _read_all(settings, topics.RESPONSE_SUBMITTED):
        if not record.value or needle not in record.value:
            continue
        envelope = _decode(record, topics.RESPONSE_SUBMITTED)
        if envelope is None or not isinstance(envelope.event, ResponseSubmitted):
            continue
        if envelope.event.period_id != period_id:
            continue
        if envelope.id in seen:
            duplicates += 1
            continue
        seen.add(envelope.id)
        count, vector = counters.get(envelope.event.unit_id) or (0, layout.zeros())
        tally_into(vector, layout, envelope.event.answers)
        counters[envelope.event.unit_id] = (count + 1, vector)
    # The stored snapshot says which rule finalised it: a rebuild must use the same one.
    engine = make_engine(settings.database_url)
    try:
        async with make_sessions(engine)() as session:
            stored = await repository.snapshot(session, period_id=period_id)
    finally:
        await engine.dispose()
    method = SuppressionMethod(stored.suppression_method) if stored else CURRENT_METHOD
    results = build_snapshot(
        period_id=period_id,
        units=[PeriodUnit(u.unit_id, u.parent_id, u.eligible) for u in opened.units],
        layout=layout,
        k=opened.k,
        sensitive_k=opened.sensitive_k,
        counters={u: UnitCounters(n, v) for u, (n, v) in counters.items()},
        indicators=settings.indicators,
        method=method,
    )
    values = snapshot_values(results)
    return Rebuilt(
        period_id=period_id,
        responses=len(seen),
        duplicates=duplicates,
        values=values,
        checksum=results_checksum(values),
        stored_checksum=stored.checksum if stored else None,
    )
