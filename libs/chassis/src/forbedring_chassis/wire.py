"""The one place the chassis meets the contracts' CloudEvents envelope.

The outbox stores headers as JSON and FastStream publishes `str` headers, so records
cross this boundary with text headers.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from forbedring_contracts import envelope
from forbedring_contracts.events.base import Event

InvalidEvent = envelope.InvalidEvent
REQUIRED_HEADERS = envelope.REQUIRED_HEADERS
Envelope = envelope.Envelope


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: dict[str, str]
    timestamp_ms: int


def encode(event: Event) -> Record:
    record = envelope.encode(event)
    return Record(
        topic=record.topic,
        key=record.key,
        value=record.value,
        headers={name: value.decode() for name, value in record.headers},
        timestamp_ms=record.timestamp_ms,
    )


def encode_many(events: Sequence[Event]) -> list[Record]:
    """`encode` of many events at once, at one time (`envelope.encode_many`)."""
    return [
        Record(
            topic=r.topic,
            key=r.key,
            value=r.value,
            headers={name: value.decode() for name, value in r.headers},
            timestamp_ms=r.timestamp_ms,
        )
        for r in envelope.encode_many(events)
    ]


def decode(
    value: bytes | None, headers: Sequence[tuple[str, bytes]], *, key: bytes | None, topic: str
) -> Envelope:
    """`topic` is the registered name, without any deployment prefix."""
    return envelope.decode(value, headers, key=key, topic=topic)
