"""Effectively-once consumers.

Each event is applied in one database transaction together with a row in
`processed_events` (`inbox`); the Kafka offset is committed only after that transaction
commits (never auto-commit). A redelivered event finds its row and is skipped. Messages
that cannot be decoded, or that keep failing, go to the service's dead-letter topic with
the error, and the consumer moves on (`policy`). A single-event consumer (`single`) lets
FastStream commit after the handler (AckPolicy.NACK_ON_ERROR); a batch consumer
(`batch`) commits each batch's offsets itself (`kafka`), as it applies a batch
(`writer`) while the next one is fetched (`in_flight`).
"""

from forbedring_chassis.consumer.batch import AfterCommit, BatchConsumer, register_batch_consumer
from forbedring_chassis.consumer.metrics import (
    CONSUMER_METRICS,
    EVENTS_APPLIED,
    EVENTS_DEAD_LETTERED,
    EVENTS_DIGESTED,
    EVENTS_DUPLICATE,
)
from forbedring_chassis.consumer.policy import dead_letter_topic
from forbedring_chassis.consumer.single import EventHandler, register_consumer
from forbedring_chassis.consumer.writer import BatchHandler

__all__ = [
    "CONSUMER_METRICS",
    "EVENTS_APPLIED",
    "EVENTS_DEAD_LETTERED",
    "EVENTS_DIGESTED",
    "EVENTS_DUPLICATE",
    "AfterCommit",
    "BatchConsumer",
    "BatchHandler",
    "EventHandler",
    "dead_letter_topic",
    "register_batch_consumer",
    "register_consumer",
]
