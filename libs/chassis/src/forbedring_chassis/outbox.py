"""Transactional outbox: stage events with the state change, publish them after commit."""

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker, KafkaPublishCommand
from faststream.response.publish_type import PublishType
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import BigInteger, any_, bindparam, delete, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis import wire
from forbedring_chassis.db import OutboxMessage, Sessions
from forbedring_chassis.faults import crash_point
from forbedring_chassis.logging import get_logger
from forbedring_chassis.telemetry import (
    context_from_headers,
    current_trace_headers,
    trace_headers_of,
)
from forbedring_contracts.events.base import Event

log = get_logger(__name__)
tracer = trace.get_tracer("forbedring.outbox")


def stage_event(session: AsyncSession, event: Event) -> None:
    """Add `event` to the outbox in the caller's transaction, with the current trace context.

    The row names the contract's topic; the relay adds the deployment's topic prefix, so
    no use case can send an event to another deployment's topic by forgetting it."""
    session.add(OutboxMessage(**_row(wire.encode(event), current_trace_headers())))


# One statement whatever the number of rows: arrays, not a parameter per value (a
# multi-VALUES INSERT of tens of thousands of rows spends seconds binding and compiling).
_INSERT_MANY = text(
    """
    INSERT INTO outbox (topic, key, value, headers, timestamp_ms)
    SELECT r.topic, r.key, r.value, CAST(r.headers AS jsonb), r.timestamp_ms
      FROM unnest(CAST(:topics AS varchar[]), CAST(:keys AS bytea[]),
                  CAST(:values AS bytea[]), CAST(:headers AS text[]),
                  CAST(:timestamps AS bigint[]))
           WITH ORDINALITY AS r(topic, key, value, headers, timestamp_ms, n)
     ORDER BY r.n
    """
)


async def stage_events(session: AsyncSession, events: Sequence[Event]) -> None:
    """`stage_event` for many events at once (a scheduler's pass may stage tens of
    thousands): encoded together (`wire.encode_many`) and inserted in one statement
    instead of one ORM object each, in the caller's transaction, in the order given."""
    if not events:
        return
    trace_headers = current_trace_headers()
    rows = [_row(record, trace_headers) for record in wire.encode_many(events)]
    await session.exec(  # type: ignore[call-overload]
        _INSERT_MANY.bindparams(
            topics=[r["topic"] for r in rows],
            keys=[r["key"] for r in rows],
            values=[r["value"] for r in rows],
            headers=[json.dumps(r["headers"]) for r in rows],
            timestamps=[r["timestamp_ms"] for r in rows],
        )
    )


def _row(record: wire.Record, trace_headers: dict[str, str]) -> dict[str, Any]:
    """The outbox row of an event's record (on the contract's topic), with the trace."""
    return {
        "topic": record.topic,
        "key": record.key,
        "value": record.value,
        "headers": {**record.headers, **trace_headers},
        "timestamp_ms": record.timestamp_ms,
    }


def _ids(ids: list[int | None]) -> Any:
    """`= ANY(array)`: one parameter for a batch, where `IN` binds one per row."""
    return bindparam("ids", ids, type_=ARRAY(BigInteger))


class OutboxRelay:
    """Publishes outbox rows in id order and deletes them in the same transaction.

    Rows are locked with SKIP LOCKED, so several replicas share the work. A crash between
    publish and commit republishes the batch: consumers de-duplicate by event id.
    """

    def __init__(
        self,
        *,
        sessions: Sessions,
        broker: KafkaBroker,
        poll_interval_s: float,
        topic_prefix: str,
        batch_size: int = 2000,
    ) -> None:
        self._sessions = sessions
        self._topic_prefix = topic_prefix
        self._broker = broker
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Hint that rows were just committed, so they go out without waiting for the poll."""
        self._wake.set()

    async def publish_pending(self) -> int:
        async with self._sessions() as session, session.begin():
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .order_by(OutboxMessage.id)  # type: ignore[arg-type]
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Hand every record to the producer first (in id order, so each partition keeps
            # it), then wait for the acknowledgements together: the producer batches what
            # it holds, where awaiting each send would be a round trip per event.
            with tracer.start_as_current_span(
                "outbox relay batch", attributes={"messaging.batch.message_count": len(rows)}
            ):
                sent = [await self._publish(row) for row in rows]
                await asyncio.gather(*sent)
            # The worst moment to die: on the broker, still in the outbox (sent again).
            crash_point("after-outbox-publish")
            await session.exec(
                delete(OutboxMessage).where(
                    col(OutboxMessage.id) == any_(_ids([r.id for r in rows]))
                )
            )
        return len(rows)

    async def _publish(self, row: OutboxMessage) -> "asyncio.Future[Any]":
        # One span per event, continuing the trace of the request that staged it; it is
        # the Kafka producer span too (its context goes in the headers, the consumer's
        # parent). The record goes to the producer without the broker's publish
        # middlewares, whose telemetry made two more spans per event: with ours, three
        # spans were half the relay's CPU.
        topic = self._topic_prefix + row.topic
        span = tracer.start_span(
            f"{topic} publish",
            context=context_from_headers(row.headers),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": topic,
                "messaging.operation": "publish",
            },
        )
        try:
            headers = {**row.headers, **trace_headers_of(span)}
            acknowledged: asyncio.Future[Any] = await self._broker.config.producer.publish(
                KafkaPublishCommand(
                    row.value,
                    topic=topic,
                    key=row.key,
                    timestamp_ms=row.timestamp_ms,
                    headers=headers,
                    no_confirm=True,
                    correlation_id=self._broker.config.id_generator(),
                    _publish_type=PublishType.PUBLISH,
                )
            )
            return acknowledged
        finally:
            span.end()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                published = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox.relay.failed")
                published = 0
            if published < self._batch_size and not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop polling, then publish what is still pending so nothing waits for a restart."""
        if self._task is not None:
            # Let a poll in flight finish rather than cancel it mid-query: a database call
            # cancelled half-way can leave its connection for the pool to hang on.
            self._stopping.set()
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10.0)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        with contextlib.suppress(Exception):
            while await self.publish_pending():
                pass
