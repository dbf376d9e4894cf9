"""Transactional outbox: stage events with the state change, publish them after commit."""

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry import trace
from sqlalchemy import delete, insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis import wire
from forbedring_chassis.db import OutboxMessage, Sessions
from forbedring_chassis.logging import get_logger
from forbedring_chassis.telemetry import context_from_headers, current_trace_headers
from forbedring_contracts.events.base import Event

log = get_logger(__name__)
tracer = trace.get_tracer("forbedring.outbox")


def stage_event(session: AsyncSession, event: Event) -> None:
    """Add `event` to the outbox in the caller's transaction, with the current trace context.

    The row names the contract's topic; the relay adds the deployment's topic prefix, so
    no use case can send an event to another deployment's topic by forgetting it."""
    session.add(OutboxMessage(**_row(event, current_trace_headers())))


async def stage_events(session: AsyncSession, events: Sequence[Event]) -> None:
    """`stage_event` for many events at once (a scheduler's pass may stage tens of
    thousands): the rows go in as one batched INSERT instead of one ORM object each, in
    the caller's transaction, in the order given."""
    trace_headers = current_trace_headers()
    rows = [_row(event, trace_headers) for event in events]
    if rows:
        await session.exec(insert(OutboxMessage.metadata.tables["outbox"]), params=rows)


def _row(event: Event, trace_headers: dict[str, str]) -> dict[str, Any]:
    """The outbox row of `event`: its record on the contract's topic, with the trace."""
    record = wire.encode(event)
    return {
        "topic": record.topic,
        "key": record.key,
        "value": record.value,
        "headers": {**record.headers, **trace_headers},
        "timestamp_ms": record.timestamp_ms,
    }


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
        batch_size: int = 500,
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
            await asyncio.gather(*(self._publish(row) for row in rows))
            await session.exec(
                delete(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))  # type: ignore[union-attr]
            )
        return len(rows)

    async def _publish(self, row: OutboxMessage) -> None:
        # Continue the trace of the request that staged the event.
        ctx = context_from_headers(row.headers)
        topic = self._topic_prefix + row.topic
        with tracer.start_as_current_span(f"{topic} publish", context=ctx):
            headers = {**row.headers, **current_trace_headers()}
            await self._broker.publish(
                row.value,
                topic,
                key=row.key,
                headers=headers,
                timestamp_ms=row.timestamp_ms,
            )

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
