"""What a consumer does with an event that fails: retry it, or give up on it and send it
to the service's dead-letter topic.

An outage (the database or the network gone) is retried forever, as the events are not
at fault and would all be dead-lettered otherwise. Any other failure is retried with a
growing pause, up to `consumer_max_attempts` per record, and then the record is
dead-lettered, as it came, with the error in its headers, so the consumer moves on and
someone can look at it (and send it again once fixed).
"""

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from forbedring_chassis.consumer.metrics import EVENTS_DEAD_LETTERED, EVENTS_FAILED
from forbedring_chassis.errors import is_outage  # one rule for routes and consumers
from forbedring_chassis.logging import get_logger
from forbedring_chassis.settings import ServiceSettings

log = get_logger(__name__)

Position = tuple[str, int, int]
"""A record's (topic, partition, offset): what failures are counted against."""


def position(record: ConsumerRecord) -> Position:
    return (record.topic, record.partition, record.offset)


@dataclass
class Attempts:
    """Failures per record position, to give up on an event that can never succeed."""

    max_attempts: int
    backoff_s: float
    counts: dict[Position, int] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    """The full topic names mapped to the names the metrics use."""

    @classmethod
    def of(cls, settings: ServiceSettings, names: Mapping[str, str] | None = None) -> "Attempts":
        return cls(
            settings.consumer_max_attempts, settings.consumer_retry_backoff_s, names=names or {}
        )

    async def should_retry(self, exc: Exception, position: Position, topic: str) -> bool:
        """True, after a pause, when the failed delivery should come again (the caller
        re-raises); False when it has failed too often and is to be given up on. An
        outage (database or network) is retried forever: the events are not at fault."""
        EVENTS_FAILED.labels(self.names.get(topic, topic)).inc()
        if is_outage(exc):
            log.warning("consumer.retrying_after_outage", topic=topic, error=str(exc))
            await asyncio.sleep(self.backoff_s)
            return True
        failures = self.counts.get(position, 0) + 1
        self.counts[position] = failures
        if failures < self.max_attempts:
            log.warning("consumer.retrying", topic=topic, attempt=failures, error=str(exc))
            await asyncio.sleep(self.backoff_s * failures)
            return True
        return False

    def done(self, position: Position) -> None:
        """The record has been dealt with (applied or given up on): forget its failures."""
        self.counts.pop(position, None)


def dead_letter_topic(settings: ServiceSettings) -> str:
    return settings.topic(f"forbedring.{settings.service_name}.dead-letter.v1")


def dead_letter_headers(record: ConsumerRecord, error: str, *, group_id: str) -> dict[str, str]:
    """The record's own headers, and where it came from and what was wrong (`dlt_*`),
    the error cut to what a header should carry."""
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    headers.update(
        dlt_error=error[:2000],
        dlt_original_topic=record.topic,
        dlt_original_partition=str(record.partition),
        dlt_original_offset=str(record.offset),
        dlt_consumer_group=group_id,
    )
    return headers


class Publish(Protocol):
    """What sending to the dead-letter topic needs of the broker (`KafkaBroker.publish`)."""

    def __call__(
        self, message: bytes, topic: str, *, key: Any, headers: dict[str, str]
    ) -> Awaitable[Any]: ...


class DeadLetters:
    """The service's dead-letter topic. `names` maps the full topic names to the names the
    metrics use."""

    def __init__(
        self, publish: Publish, *, topic: str, group_id: str, names: Mapping[str, str]
    ) -> None:
        self._publish = publish
        self.topic = topic
        self._group_id = group_id
        self._names = names

    @classmethod
    def of(
        cls, broker: KafkaBroker, settings: ServiceSettings, names: Mapping[str, str]
    ) -> "DeadLetters":
        return cls(
            broker.publish,
            topic=dead_letter_topic(settings),
            group_id=settings.group_id,
            names=names,
        )

    async def send(self, record: ConsumerRecord, error: str) -> None:
        """The record, as it came (value and key), with `dead_letter_headers`. Raises
        when the broker does: the caller decides whether to try again."""
        headers = dead_letter_headers(record, error, group_id=self._group_id)
        await self._publish(record.value or b"", self.topic, key=record.key, headers=headers)
        EVENTS_DEAD_LETTERED.labels(self._names[record.topic]).inc()
        log.warning(
            "consumer.dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error[:500],
        )

    async def send_retried(self, record: ConsumerRecord, error: str, attempts: Attempts) -> None:
        """`send`, tried again under `attempts` (forever through an outage); given up on,
        with an error logged, rather than raised: a record that cannot even be
        dead-lettered must not hold up the records after it."""
        at = position(record)
        while True:
            try:
                await self.send(record, error)
                break
            except Exception as exc:
                if not await attempts.should_retry(exc, at, record.topic):
                    log.exception("consumer.dead_letter_failed", topic=record.topic)
                    break
        attempts.done(at)
