"""The chassis batch consumer's failure paths, on the real broker and PostgreSQL, with a
batch applied in several pipelined slices, with and without worker processes digesting
part of the events (`Offload`): a handler that fails once is retried and applies
everything once; an event that always fails is dead-lettered on its own and the rest of
its batch is applied once, and an outage meanwhile is waited out; a record that is no
event is dead-lettered too; events delivered again, in the batch or after their
commit, are applied once."""

import multiprocessing
import operator
import os
import random
import signal
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation import testing as synth
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis import wire
from forbedring_chassis.consumer import BatchConsumer, dead_letter_topic, register_batch_consumer
from forbedring_chassis.db import ProcessedEvent, make_engine, make_sessions
from forbedring_chassis.offload import Offload
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    uncommitted,
    unique_name,
)
from forbedring_contracts import topics
from forbedring_contracts.events import ResponseSubmitted

Q = synth.questionnaire()


async def _applied(sessions: Any, *, path: str | None = None) -> list[str]:
    """The ids applied (by `path`: 'handler' or 'digest'), with repeats."""
    async with sessions() as session:
        result = await session.exec(
            text("SELECT response_id FROM applied WHERE path = coalesce(:path, path)"),
            params={"path": path},
        )
        return [row[0] for row in result.all()]


def digest_unit_a(context: str, events: Sequence[ResponseSubmitted]) -> tuple[list[str], list[int]]:
    """The offload's digest (run in the workers): the ids of unit `context`'s events; the
    others declined, for the handler."""
    taken: list[str] = []
    declined: list[int] = []
    for position, event in enumerate(events):
        if event.unit_id == context:
            taken.append(str(event.response_id))
        else:
            declined.append(position)
    return taken, declined


async def _dead_letters(servers: str, topic: str, expected: int) -> list[dict[str, str]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        auto_offset_reset="earliest",
        group_id=unique_name("dlt-reader"),
    )
    await consumer.start()
    found: list[dict[str, str]] = []
    try:

        async def arrived() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found.extend({k: v.decode() for k, v in r.headers} for r in records)
            return len(found) >= expected

        await eventually(arrived)
    finally:
        await consumer.stop()
    return found


async def _consumer_database(
    infrastructure: Infrastructure, databases: Databases, private_topic_prefix: str
) -> tuple[AggregationSettings, Any, Any]:
    """Settings for a test consumer, and a database with `processed_events` and a table
    `applied` (response_id, path) the tests' handlers write to."""
    settings = AggregationSettings(
        database_url=await databases.create("batch"),
        **infrastructure.connections(private_topic_prefix),
        consumer_group=unique_name("batch"),
        consumer_retry_backoff_s=0.05,
        consumer_max_attempts=3,
    )
    engine = make_engine(settings.database_url)
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: SQLModel.metadata.create_all(sync, tables=[ProcessedEvent.__table__])  # type: ignore[attr-defined]
        )
        # No key: an event applied twice would show as two rows.
        await connection.execute(
            text("CREATE TABLE applied (response_id text NOT NULL, path text NOT NULL)")
        )
    return settings, engine, make_sessions(engine)


async def _insert_applied(session: AsyncSession, ids: Sequence[str], path: str) -> None:
    await session.exec(
        text("INSERT INTO applied SELECT unnest(CAST(:ids AS text[])), :path"),  # type: ignore[call-overload]
        params={"ids": ids, "path": path},
    )


async def _unit_a(session: AsyncSession) -> str:
    return "unit-a"


def _register(
    broker: KafkaBroker,
    settings: AggregationSettings,
    sessions: Any,
    handler: Any,
    *,
    apply_digest: Any,
) -> BatchConsumer:
    """The consumer under test: batches of up to 200 in slices of 7; with `apply_digest`,
    two workers digest unit-a's events (`digest_unit_a`) and it applies their ids."""
    return register_batch_consumer(
        broker,
        settings=settings,
        sessions=sessions,
        topics=(topics.RESPONSE_SUBMITTED,),
        handler=handler,
        max_records=200,
        batch_timeout_ms=500,
        slice_records=7,
        offload=None
        if apply_digest is None
        else Offload(
            topics=(topics.RESPONSE_SUBMITTED,),
            digest=digest_unit_a,
            context=_unit_a,
            merge=operator.add,
            apply=apply_digest,
            workers=2,
        ),
    )


@pytest.mark.parametrize("offloaded", [False, True], ids=["in-process", "offloaded"])
async def test_a_poison_event_is_dead_lettered_alone_and_the_rest_applied_once(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    offloaded: bool,
) -> None:
    rng = random.Random(7)
    events = synth.responses(rng, unique_name("period"), Q, {"unit-a": 40, "unit-b": 40})
    poison, flaky = str(events[25].response_id), str(events[50].response_id)
    # Applied alone only after the poison sent its batch event by event, where the
    # database "goes away" more often than an event may fail: an outage, retried in
    # place until it passes, and not held against the event.
    outage = str(events[30].response_id)
    outages: list[str] = []
    settings, engine, sessions = await _consumer_database(
        infrastructure, databases, private_topic_prefix
    )

    failed_once: set[str] = set()

    async def apply(session: AsyncSession, ids: Sequence[str], path: str) -> None:
        if poison in ids:
            raise RuntimeError("this event can never be applied")
        if flaky in ids and flaky not in failed_once:
            failed_once.add(flaky)
            raise RuntimeError("a passing failure")
        if ids == [outage] and len(outages) <= settings.consumer_max_attempts:
            outages.append(outage)
            raise ConnectionError("the database went away")
        await _insert_applied(session, ids, path)

    async def handler(session: AsyncSession, batch: Sequence[ResponseSubmitted]) -> None:
        await apply(session, [str(event.response_id) for event in batch], "handler")

    async def apply_digest(session: AsyncSession, ids: list[str]) -> None:
        await apply(session, ids, "digest")

    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    consumer = _register(
        broker, settings, sessions, handler, apply_digest=apply_digest if offloaded else None
    )
    records = synth.encoded(events)
    not_an_event = wire.Record(
        topic=records[0].topic,
        key=records[0].key,
        value=b'{"response_id": "not json',
        headers=records[0].headers,
        timestamp_ms=records[0].timestamp_ms,
    )
    # Everything in one go (so in few batches), with ten events delivered twice.
    await synth.produce(
        infrastructure.kafka_bootstrap_servers,
        private_topic_prefix,
        [*records[:40], not_an_event, *records[40:], *records[:10]],
    )
    await consumer.start()
    await broker.start()
    try:
        expected = sorted(str(e.response_id) for e in events if str(e.response_id) != poison)

        async def all_applied() -> bool:
            return sorted(set(await _applied(sessions))) == expected

        await eventually(all_applied, timeout=60)
        dead = await _dead_letters(
            infrastructure.kafka_bootstrap_servers, dead_letter_topic(settings), expected=2
        )
        # Delivered again after their commit, then new events (the workers' to digest,
        # in slices of their own) to know they were read.
        new = synth.responses(rng, events[0].period_id, Q, {"unit-a": 20})
        await synth.produce(
            infrastructure.kafka_bootstrap_servers,
            private_topic_prefix,
            [*records[:20], *synth.encoded(new)],
        )
        expected = sorted([*expected, *(str(e.response_id) for e in new)])
        await eventually(all_applied, timeout=60)
        via_digest = await _applied(sessions, path="digest")
    finally:
        await consumer.drain()
        await broker.stop()
        await consumer.stop()
        await engine.dispose()

    assert sorted(await _applied(sessions)) == expected, "each event applied exactly once"
    # Committed by each batch once applied, the last one while the consumer stopped.
    assert not await uncommitted(
        infrastructure.kafka_bootstrap_servers,
        settings.group_id,
        settings.topic(topics.RESPONSE_SUBMITTED),
    ), "every offset committed"
    assert flaky in failed_once, "the passing failure happened, and was retried"
    assert len(outages) > settings.consumer_max_attempts, "the outage happened, one by one"
    ids = sorted(d.get("ce_id", "") for d in dead)
    assert len(dead) == 2, dead
    assert any("RuntimeError: this event can never be applied" in d["dlt_error"] for d in dead)
    assert any("invalid event" in d["dlt_error"] for d in dead)
    poison_id = next(r.headers["ce_id"] for r in records if poison in r.value.decode())
    assert poison_id in ids
    unit_b = {str(e.response_id) for e in events if e.unit_id == "unit-b"}
    if offloaded:
        assert via_digest, "the workers digested events"
        assert not unit_b & set(via_digest), "the events the digest declined were not in it"
    else:
        assert not via_digest


async def test_a_worker_killed_is_replaced_and_nothing_is_lost(
    infrastructure: Infrastructure, databases: Databases, private_topic_prefix: str
) -> None:
    """A worker process dies (the kernel's out-of-memory killer, say) while idle: the
    consumer starts new workers and applies every event once."""
    rng = random.Random(8)
    period = unique_name("period")
    settings, engine, sessions = await _consumer_database(
        infrastructure, databases, private_topic_prefix
    )

    async def handler(session: AsyncSession, batch: Sequence[ResponseSubmitted]) -> None:
        await _insert_applied(session, [str(event.response_id) for event in batch], "handler")

    async def apply_digest(session: AsyncSession, ids: list[str]) -> None:
        await _insert_applied(session, ids, "digest")

    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    consumer = _register(broker, settings, sessions, handler, apply_digest=apply_digest)
    others = {child.pid for child in multiprocessing.active_children()}
    await consumer.start()
    ours = [child for child in multiprocessing.active_children() if child.pid not in others]
    assert ours, "the workers run"
    await broker.start()
    expected: list[str] = []

    async def all_applied() -> bool:
        return sorted(set(await _applied(sessions))) == expected

    try:
        for round_ in range(2):
            if round_ == 1:
                os.kill(ours[0].pid or 0, signal.SIGKILL)
                ours[0].join(timeout=10)
            events = synth.responses(rng, period, Q, {"unit-a": 30})
            await synth.produce(
                infrastructure.kafka_bootstrap_servers, private_topic_prefix, synth.encoded(events)
            )
            expected.extend(str(e.response_id) for e in events)
            expected.sort()
            await eventually(all_applied, timeout=60)
        assert sorted(await _applied(sessions)) == expected, "each event applied exactly once"
        after_kill = {str(e.response_id) for e in events}
        assert after_kill & set(await _applied(sessions, path="digest")), (
            "new workers digested events after the kill"
        )
    finally:
        await consumer.drain()
        await broker.stop()
        await consumer.stop()
        await engine.dispose()
