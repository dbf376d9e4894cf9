"""CloudEvents 1.0 over Kafka, binary content mode: the event is the JSON value, its
attributes are `ce_*` headers, and the record key is the unit or period id.

`encode` turns an event into what a producer sends; `decode` turns what a consumer
receives back into the event, or raises `InvalidEvent` saying what is wrong with it.

The time an event may reveal is bounded by its model's `time_precision`: `encode` cuts
`ce_time` and the record timestamp down to it (response-submitted: the day, midnight UTC,
never the submission instant) and, for coarse events, accepts only random (version 4)
UUIDs as event ids, since a time-ordered id would date the event after all. `decode`
rejects a message whose `ce_time` is finer than its event allows.
"""

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final, NamedTuple
from uuid import UUID, uuid4

from pydantic import ValidationError

from forbedring_contracts.events import Event, TimePrecision
from forbedring_contracts.topics import Topic, topic_for_type, topic_of

SPEC_VERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"
REQUIRED_HEADERS: Final = (
    "ce_specversion",
    "ce_id",
    "ce_type",
    "ce_source",
    "ce_time",
    "content-type",
)
_REQUIRED: Final = frozenset(REQUIRED_HEADERS)
_OWN_HEADERS: Final = frozenset((*REQUIRED_HEADERS, "ce_subject"))
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

HeadersIn = Mapping[str, bytes | str | None] | Iterable[tuple[str, bytes | str | None]]
"""Headers as a consumer gets them: (name, value) pairs, or a mapping."""


class InvalidEvent(ValueError):
    """A message that is not a valid Forbedring event. `reason` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class KafkaRecord:
    """What to send: `value` with `key`, `headers` and `timestamp_ms` to `topic`.

    Send `timestamp_ms` as the record's timestamp: it is as coarse as `ce_time`, whereas
    leaving it out lets the client stamp the send instant.
    """

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    timestamp_ms: int


class Envelope(NamedTuple):
    """A received event with its CloudEvents attributes. `other_headers` are the headers
    the envelope does not own (e.g. W3C `traceparent`), as they arrived.

    A named tuple, not a frozen dataclass: a consumer builds one per event, and the
    dataclass's `__init__` (a guarded `setattr` per field) cost a tenth of decoding one."""

    id: str
    time: datetime
    subject: str | None
    topic: Topic
    event: Event
    other_headers: tuple[tuple[str, bytes], ...]

    @property
    def type(self) -> str:
        return self.topic.ce_type

    @property
    def source(self) -> str:
        return self.topic.ce_source


def encode(
    event: Event,
    *,
    event_id: str | None = None,
    time: datetime | None = None,
    subject: str | None = None,
    headers: Iterable[tuple[str, bytes]] = (),
) -> KafkaRecord:
    """The Kafka record for `event`.

    `event_id` defaults to a random UUID; reuse one id for every attempt to send the same
    event (consumers deduplicate by it). `time` (timezone-aware, default now) is coarsened
    to the event's precision. `headers` are added as given, e.g. `traceparent`, and must
    not be headers the envelope owns.
    """
    topic = topic_of(event)
    precision = type(event).time_precision
    moment = precision.coarsen(_aware(time or datetime.now(UTC), "time"))
    own: list[tuple[str, bytes]] = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", _checked_id(event_id, precision).encode()),
        ("ce_type", topic.ce_type.encode()),
        ("ce_source", topic.ce_source.encode()),
        ("ce_time", format_time(moment).encode()),
    ]
    if subject is not None:
        own.append(("ce_subject", subject.encode()))
    own.append(("content-type", CONTENT_TYPE.encode()))
    extra = list(headers)
    for name, _ in extra:
        if name.lower() in _OWN_HEADERS:
            msg = f"header {name!r} belongs to the envelope; pass it as an argument"
            raise ValueError(msg)
    return KafkaRecord(
        topic=topic.name,
        key=topic.key_of(event).encode(),
        value=event.model_dump_json().encode(),
        headers=own + extra,
        timestamp_ms=(moment - _EPOCH) // timedelta(milliseconds=1),
    )


def encode_many(events: Sequence[Event], *, time: datetime | None = None) -> list[KafkaRecord]:
    """`encode` of each event with a random id, all at one `time` (default now), in order:
    what a batch of events (a scheduler's pass stages tens of thousands) costs to encode,
    the headers shared by a type worked out once and the ids drawn in one go."""
    moment = _aware(time or datetime.now(UTC), "time")
    ids = _random_ids(len(events))
    shared: dict[type[Event], tuple[Topic, list[tuple[str, bytes]], int]] = {}
    records = []
    for event, event_id in zip(events, ids, strict=True):
        model = type(event)
        known = shared.get(model)
        if known is None:
            topic = topic_of(event)
            at = model.time_precision.coarsen(moment)
            own = [
                ("ce_type", topic.ce_type.encode()),
                ("ce_source", topic.ce_source.encode()),
                ("ce_time", format_time(at).encode()),
                ("content-type", CONTENT_TYPE.encode()),
            ]
            known = shared[model] = (topic, own, (at - _EPOCH) // timedelta(milliseconds=1))
        topic, own, timestamp_ms = known
        records.append(
            KafkaRecord(
                topic=topic.name,
                key=topic.key_of(event).encode(),
                value=event.model_dump_json().encode(),
                headers=[_SPEC_VERSION_HEADER, ("ce_id", event_id), *own],
                timestamp_ms=timestamp_ms,
            )
        )
    return records


_SPEC_VERSION_HEADER: Final = ("ce_specversion", SPEC_VERSION.encode())


def _random_ids(n: int) -> list[bytes]:
    """`n` random (version 4) UUIDs in their text form, from one read of the OS's random
    source (`str(uuid4())` each costs several times as much)."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # RFC 4122 variant
    text = raw.hex().encode()
    return [
        b"-".join((h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]))
        for h in (text[32 * i : 32 * i + 32] for i in range(n))
    ]


def decode(
    value: bytes | None,
    headers: HeadersIn,
    *,
    key: bytes | None = None,
    topic: str | None = None,
) -> Envelope:
    """The event in a received record, or `InvalidEvent`.

    Checks the envelope headers, validates the body against the model `ce_type` names
    and, when given, that `key` is the event's key and `topic` (the registered name,
    without any deployment prefix) is the topic the type belongs on.
    """
    if not value:
        raise InvalidEvent("the message has no value (body)")
    attributes, others = _split(headers)
    if not attributes.keys() >= _REQUIRED:
        missing = next(name for name in REQUIRED_HEADERS if name not in attributes)
        raise InvalidEvent(f"missing header {missing!r}")
    found = _checked_topic(
        attributes["ce_specversion"],
        attributes["ce_type"],
        attributes["ce_source"],
        attributes["content-type"],
        topic,
    )
    event_id = attributes["ce_id"]
    if not event_id.strip():
        raise InvalidEvent("ce_id is empty")
    time = _parse_time(attributes["ce_time"])
    event = _parse_body(found, value)
    if not _within_precision(time, event.time_precision):
        raise InvalidEvent(
            f"ce_time {attributes['ce_time']!r} is finer than {found.event} events allow "
            f"(precision: {event.time_precision})"
        )
    if key is not None and key != found.key_of(event).encode():
        raise InvalidEvent(
            f"record key {key!r} is not the event's {found.key.value} {found.key_of(event)!r}"
        )
    return Envelope(event_id, time, attributes.get("ce_subject"), found, event, tuple(others))


# A consumer sees the same few spec versions, types, sources and content types over and
# over: each combination is checked once. (An invalid one raises, and is not cached.)
@lru_cache(maxsize=256)
def _checked_topic(
    spec_version: str, ce_type: str, ce_source: str, content_type: str, topic: str | None
) -> Topic:
    if spec_version != SPEC_VERSION:
        raise InvalidEvent(f"ce_specversion is {spec_version!r}, expected {SPEC_VERSION!r}")
    found = topic_for_type(ce_type)
    if found is None:
        raise InvalidEvent(f"unknown event type (ce_type) {ce_type!r}")
    if topic is not None and topic != found.name:
        raise InvalidEvent(f"event type {found.ce_type!r} does not belong on topic {topic!r}")
    if ce_source != found.ce_source:
        raise InvalidEvent(
            f"ce_source is {ce_source!r}, expected {found.ce_source!r} for {found.ce_type!r}"
        )
    if content_type.split(";")[0].strip().lower() != CONTENT_TYPE:
        raise InvalidEvent(f"content-type is {content_type!r}, expected {CONTENT_TYPE!r}")
    return found


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, with microseconds only when there are any."""
    utc = _aware(moment, "moment").astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def headers_schema(topic: Topic) -> dict[str, Any]:
    """A JSON Schema of the headers of a message on `topic` (for the AsyncAPI document)."""
    precisions = {model.time_precision for model in topic.models}
    time_text = "When the event happened, RFC 3339."
    if precisions != {TimePrecision.INSTANT}:
        coarse = ", ".join(sorted(precisions - {TimePrecision.INSTANT}))
        time_text += f" Coarsened to the {coarse} (UTC); the record timestamp is coarsened alike."
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes, Kafka protocol binding, binary mode.",
        "required": list(REQUIRED_HEADERS),
        "properties": {
            "ce_specversion": {"const": SPEC_VERSION},
            "ce_id": {
                "type": "string",
                "description": "The event id; a redelivered event keeps it. "
                + (
                    "A random (version 4) UUID."
                    if precisions != {TimePrecision.INSTANT}
                    else "A UUID unless the producer says otherwise."
                ),
            },
            "ce_type": {"const": topic.ce_type},
            "ce_source": {"const": topic.ce_source},
            "ce_time": {"type": "string", "format": "date-time", "description": time_text},
            "ce_subject": {"type": "string", "description": "Optional: what it is about."},
            "content-type": {"const": CONTENT_TYPE},
            "traceparent": {
                "type": "string",
                "description": "Optional: W3C trace context of the producing operation.",
            },
        },
    }


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = f"{what} must be timezone-aware, got {moment!r}"
        raise ValueError(msg)
    return moment


def _checked_id(event_id: str | None, precision: TimePrecision) -> str:
    if event_id is None:
        return str(uuid4())
    if not event_id.strip():
        msg = "event_id must not be empty"
        raise ValueError(msg)
    if precision is not TimePrecision.INSTANT:
        try:
            random = UUID(event_id).version == 4
        except ValueError:
            random = False
        if not random:
            msg = (
                f"event_id {event_id!r} must be a random (version 4) UUID: an event with "
                f"{precision} precision must not be dated or ordered by its id"
            )
            raise ValueError(msg)
    return event_id


def _split(headers: HeadersIn) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    if headers.__class__ is list or headers.__class__ is tuple:
        # The common case, in one pass: only the envelope's own headers, as it spells
        # them, each once, all UTF-8. Anything else takes the careful path below.
        try:
            attributes = {name: raw.decode() for name, raw in headers}
        except (AttributeError, TypeError, ValueError):
            pass
        else:
            if len(attributes) == len(headers) and attributes.keys() <= _OWN_HEADERS:
                return attributes, []
    return _split_carefully(headers)


def _split_carefully(headers: HeadersIn) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    attributes: dict[str, str] = {}
    others: list[tuple[str, bytes]] = []
    for name, raw in pairs:
        if name not in _OWN_HEADERS:  # spelt as the envelope writes them: no lower() needed
            if name.lower() not in _OWN_HEADERS:
                others.append((name, raw.encode() if isinstance(raw, str) else raw or b""))
                continue
            name = name.lower()
        if name in attributes:
            raise InvalidEvent(f"header {name!r} appears more than once")
        if raw is None:
            raise InvalidEvent(f"header {name!r} has no value")
        try:
            attributes[name] = raw if isinstance(raw, str) else raw.decode()
        except UnicodeDecodeError:
            raise InvalidEvent(f"header {name!r} is not UTF-8") from None
    return attributes, others


# A consumer's records carry few distinct times (response-submitted: the day of the
# release batch), so a time is parsed, and checked against a precision, once.
@lru_cache(maxsize=1024)
def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEvent(f"ce_time {text!r} is not an RFC 3339 timestamp") from None
    if moment.tzinfo is None:
        raise InvalidEvent(f"ce_time {text!r} has no UTC offset")
    return moment.astimezone(UTC)


@lru_cache(maxsize=1024)
def _within_precision(moment: datetime, precision: TimePrecision) -> bool:
    return precision.coarsen(moment) == moment


def _parse_body(topic: Topic, value: bytes) -> Event:
    try:
        return topic.adapter.validate_json(value)
    except ValidationError as error:
        problems = error.errors(include_url=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise InvalidEvent(f"the body is not valid JSON: {problems[0]['msg']}") from None
        skip = 1 if len(topic.models) > 1 else 0  # the union's tag leads every location
        listed = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'][skip:]) or '(body)'}: {problem['msg']}"
            for problem in problems[:5]
        )
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InvalidEvent(f"the body is not a valid {topic.event} event: {listed}{more}") from None
