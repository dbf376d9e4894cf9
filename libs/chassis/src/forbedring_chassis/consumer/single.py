"""The single-event consumer: one event, one transaction, one offset commit.

FastStream commits the offset after the handler returns (AckPolicy.NACK_ON_ERROR), and
rewinds to the event when it raises, so a failure the policy retries is raised again and
the event comes back; one given up on is dead-lettered and the handler returns.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis import wire
from forbedring_chassis.consumer.inbox import Inbox
from forbedring_chassis.consumer.kafka import raw_body
from forbedring_chassis.consumer.metrics import EVENTS_APPLIED, EVENTS_DUPLICATE, EVENTS_PROCESSED
from forbedring_chassis.consumer.policy import Attempts, DeadLetters, position
from forbedring_chassis.db import Sessions
from forbedring_chassis.faults import crash_point
from forbedring_chassis.logging import get_logger
from forbedring_chassis.settings import ServiceSettings

log = get_logger(__name__)

EventHandler = Callable[[AsyncSession, Any], Awaitable[None]]
"""`handler(session, event)`: apply an event seen for the first time."""


def register_consumer(
    broker: KafkaBroker,
    *,
    settings: ServiceSettings,
    sessions: Sessions,
    topic: str,
    handler: EventHandler,
) -> None:
    """Subscribe `handler(session, event)` to `topic`, effectively once."""
    full_topic = settings.topic(topic)
    attempts = Attempts.of(settings, {full_topic: topic})
    dead_letters = DeadLetters.of(broker, settings, {full_topic: topic})
    inbox = Inbox(settings.group_id)

    @broker.subscriber(
        full_topic,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
    )
    async def consume(body: Any, message: KafkaMessage) -> None:
        record: ConsumerRecord = message.raw_message
        try:
            received = wire.decode(
                record.value, list(record.headers or ()), key=record.key, topic=topic
            )
        except wire.InvalidEvent as exc:
            await dead_letters.send(record, f"invalid event: {exc}")
            EVENTS_PROCESSED.labels(topic).inc()
            return
        at = position(record)
        try:
            await _apply(received)
        except Exception as exc:
            if await attempts.should_retry(exc, at, record.topic):
                raise
            await dead_letters.send(record, f"{type(exc).__name__}: {exc}")
        attempts.done(at)
        EVENTS_PROCESSED.labels(topic).inc()

    async def _apply(received: wire.Envelope) -> None:
        event_id = received.id
        async with sessions() as session, session.begin():
            if not await inbox.first_time(session, event_id):
                EVENTS_DUPLICATE.labels(topic).inc()
                log.info("consumer.duplicate_skipped", topic=topic, event_id=event_id)
                return
            await handler(session, received.event)
        EVENTS_APPLIED.labels(topic).inc()
        # The database has committed; the offset has not. A crash here must not double-count.
        crash_point("after-db-commit")

    _ = consume
