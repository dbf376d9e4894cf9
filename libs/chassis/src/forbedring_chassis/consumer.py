"""Effectively-once consumers.

Each event is applied in one database transaction together with a row in
`processed_events`; the Kafka offset is committed only after that transaction commits
(AckPolicy.NACK_ON_ERROR, never auto-commit). A redelivered event finds its row and is
skipped. Messages that cannot be decoded, or that keep failing, go to the service's
dead-letter topic with the error, and the consumer moves on.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from prometheus_client import Counter
from sqlalchemy import column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis import wire
from forbedring_chassis.db import ProcessedEvent, Sessions
from forbedring_chassis.faults import crash_point
from forbedring_chassis.logging import get_logger
from forbedring_chassis.settings import ServiceSettings

log = get_logger(__name__)

EventHandler = Callable[[AsyncSession, Any], Awaitable[None]]

EVENTS_APPLIED = Counter(
    "forbedring_events_applied_total", "Events applied to the database", ["topic"], registry=None
)
EVENTS_DUPLICATE = Counter(
    "forbedring_events_duplicate_total", "Redelivered events skipped", ["topic"], registry=None
)
EVENTS_DEAD_LETTERED = Counter(
    "forbedring_events_dead_lettered_total",
    "Events sent to the dead-letter topic",
    ["topic"],
    registry=None,
)
CONSUMER_METRICS = (EVENTS_APPLIED, EVENTS_DUPLICATE, EVENTS_DEAD_LETTERED)


def dead_letter_topic(settings: ServiceSettings) -> str:
    return settings.topic(f"forbedring.{settings.service_name}.dead-letter.v1")


@dataclass
class _Attempts:
    """Failures per (partition, offset), to dead-letter an event that can never succeed."""

    counts: dict[tuple[str, int, int], int]


async def _raw_body(message: StreamMessage[Any]) -> Any:
    # Decoding is ours (the envelope), not FastStream's JSON guess.
    return message.body


async def _record_processed(session: AsyncSession, *, consumer: str, event_id: str) -> bool:
    """True when this is the first time the consumer group sees the event."""
    result = await session.exec(
        pg_insert(ProcessedEvent)
        .values(consumer=consumer, event_id=event_id)
        .on_conflict_do_nothing()
        .returning(column("event_id"))
    )
    return result.first() is not None


def _is_outage(exc: BaseException) -> bool:
    """Database or network trouble: retry forever rather than dead-letter good events."""
    if isinstance(exc, OperationalError | ConnectionError | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def register_consumer(
    broker: KafkaBroker,
    *,
    settings: ServiceSettings,
    sessions: Sessions,
    topic: str,
    handler: EventHandler,
) -> None:
    """Subscribe `handler(session, event)` to `topic`, effectively once."""
    attempts = _Attempts(counts={})
    full_topic = settings.topic(topic)

    async def send_to_dead_letter(record: ConsumerRecord, error: str) -> None:
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        headers.update(
            dlt_error=error[:2000],
            dlt_original_topic=record.topic,
            dlt_original_partition=str(record.partition),
            dlt_original_offset=str(record.offset),
            dlt_consumer_group=settings.group_id,
        )
        await broker.publish(
            record.value or b"", dead_letter_topic(settings), key=record.key, headers=headers
        )
        EVENTS_DEAD_LETTERED.labels(topic).inc()
        log.warning(
            "consumer.dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error[:500],
        )

    @broker.subscriber(
        full_topic,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_body,
    )
    async def consume(body: Any, message: KafkaMessage) -> None:
        record: ConsumerRecord = message.raw_message
        try:
            received = wire.decode(
                record.value, list(record.headers or ()), key=record.key, topic=topic
            )
        except wire.InvalidEvent as exc:
            await send_to_dead_letter(record, f"invalid event: {exc}")
            return
        position = (record.topic, record.partition, record.offset)
        try:
            await _apply(received)
        except Exception as exc:
            if _is_outage(exc):
                log.warning("consumer.retrying_after_outage", topic=record.topic, error=str(exc))
                await asyncio.sleep(settings.consumer_retry_backoff_s)
                raise
            failures = attempts.counts.get(position, 0) + 1
            attempts.counts[position] = failures
            if failures < settings.consumer_max_attempts:
                log.warning(
                    "consumer.retrying", topic=record.topic, attempt=failures, error=str(exc)
                )
                await asyncio.sleep(settings.consumer_retry_backoff_s * failures)
                raise
            await send_to_dead_letter(record, f"{type(exc).__name__}: {exc}")
        attempts.counts.pop(position, None)

    async def _apply(received: wire.Envelope) -> None:
        event_id = received.id
        async with sessions() as session, session.begin():
            if not await _record_processed(session, consumer=settings.group_id, event_id=event_id):
                EVENTS_DUPLICATE.labels(topic).inc()
                log.info("consumer.duplicate_skipped", topic=topic, event_id=event_id)
                return
            await handler(session, received.event)
        EVENTS_APPLIED.labels(topic).inc()
        # The database has committed; the offset has not. A crash here must not double-count.
        crash_point("after-db-commit")

    _ = consume
