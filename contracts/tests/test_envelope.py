"""The CloudEvents envelope: round trips, malformed messages, and time coarsening."""

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from forbedring_contracts import envelope, examples, topics
from forbedring_contracts.envelope import (
    REQUIRED_HEADERS,
    InvalidEvent,
    KafkaRecord,
    decode,
    encode,
)
from forbedring_contracts.events import Event, ResponseSubmitted, SuppressedUnitResults
from forbedring_contracts.examples import EXAMPLES

TRACEPARENT = ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
NOON = datetime(2026, 3, 16, 12, 34, 56, 789000, tzinfo=UTC)


def _name(event: Event) -> str:
    return type(event).__name__


@pytest.mark.parametrize("event", EXAMPLES, ids=_name)
def test_every_event_survives_a_round_trip(event: Event) -> None:
    record = encode(event, time=NOON, subject="about-it", headers=[TRACEPARENT])
    topic = topics.topic_of(event)

    received = decode(record.value, record.headers, key=record.key, topic=record.topic)

    assert received.event == event
    assert type(received.event) is type(event)
    assert received.topic is topic
    assert received.type == topic.ce_type
    assert received.source == topic.ce_source
    assert received.subject == "about-it"
    assert received.other_headers == (TRACEPARENT,)
    assert record.topic == topic.name
    assert record.key == topic.key_of(event).encode()


@pytest.mark.parametrize("event", EXAMPLES, ids=_name)
def test_headers_are_cloudevents_binary_mode(event: Event) -> None:
    record = encode(event, event_id=str(uuid.uuid4()), time=NOON, headers=[TRACEPARENT])
    headers = dict(record.headers)

    assert set(REQUIRED_HEADERS) <= set(headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == f"no.{topics.topic_of(event).name}".encode()
    assert headers["ce_source"] == f"/forbedring/{topics.topic_of(event).producer}".encode()
    assert headers["content-type"] == b"application/json"
    assert headers["traceparent"] == TRACEPARENT[1]
    assert "ce_subject" not in headers
    assert json.loads(record.value) == event.model_dump(mode="json")


def test_headers_may_arrive_as_a_mapping_of_strings() -> None:
    record = encode(examples.PERIOD_CLOSED, time=NOON)
    as_strings = {name: value.decode() for name, value in record.headers}

    assert decode(record.value, as_strings).event == examples.PERIOD_CLOSED


def test_the_event_id_is_kept_and_random_by_default() -> None:
    chosen = encode(examples.PLAN_UPDATED, event_id="outbox-17", time=NOON)
    first, second = (encode(examples.PLAN_UPDATED, time=NOON) for _ in range(2))

    assert decode(chosen.value, chosen.headers).id == "outbox-17"
    assert dict(first.headers)["ce_id"] != dict(second.headers)["ce_id"]
    assert uuid.UUID(dict(first.headers)["ce_id"].decode()).version == 4


def test_an_instant_event_keeps_its_time() -> None:
    record = encode(examples.RESULTS_RELEASED, time=NOON)

    assert dict(record.headers)["ce_time"] == b"2026-03-16T12:34:56.789000Z"
    assert decode(record.value, record.headers).time == NOON
    assert record.timestamp_ms == int(NOON.timestamp() * 1000)


# --- anonymity: response-submitted is dated to the day, never to the instant ------------


def _time_header(record: KafkaRecord) -> bytes:
    return dict(record.headers)["ce_time"]


@pytest.mark.parametrize(
    ("submitted", "day"),
    [
        (datetime(2026, 3, 16, 14, 37, 12, 123456, tzinfo=UTC), "2026-03-16"),
        (datetime(2026, 3, 16, 23, 59, 59, 999999, tzinfo=UTC), "2026-03-16"),
        # 00:30 in Oslo in summer is still the previous day in UTC
        (datetime(2026, 6, 2, 0, 30, tzinfo=timezone(timedelta(hours=2))), "2026-06-01"),
    ],
)
def test_response_submitted_is_dated_to_midnight_utc(submitted: datetime, day: str) -> None:
    record = encode(examples.RESPONSE_SUBMITTED, time=submitted)
    midnight = datetime.fromisoformat(f"{day}T00:00:00+00:00")

    assert _time_header(record) == f"{day}T00:00:00Z".encode()
    assert record.timestamp_ms == int(midnight.timestamp()) * 1000
    assert decode(record.value, record.headers).time == midnight


def test_responses_of_one_day_cannot_be_told_apart_by_their_envelopes() -> None:
    moments = [
        datetime(2026, 3, 16, hour, minute, tzinfo=UTC) for hour, minute in [(8, 1), (19, 59)]
    ]
    records = [encode(examples.RESPONSE_SUBMITTED, time=moment) for moment in moments]

    assert len({_time_header(record) for record in records}) == 1
    assert len({record.timestamp_ms for record in records}) == 1


def test_the_default_time_of_a_response_is_today_at_midnight() -> None:
    record = encode(examples.RESPONSE_SUBMITTED)

    assert _time_header(record).endswith(b"T00:00:00Z")


def test_participation_is_dated_to_the_minute() -> None:
    record = encode(examples.PARTICIPATION_CHANGED, time=NOON)

    assert _time_header(record) == b"2026-03-16T12:34:00Z"


def test_participation_counts_are_taken_to_the_minute() -> None:
    changed = examples.PARTICIPATION_CHANGED.model_copy(update={"as_of": NOON})
    revalidated = type(changed).model_validate(changed.model_dump())

    assert revalidated.as_of == datetime(2026, 3, 16, 12, 34, tzinfo=UTC)


@pytest.mark.parametrize(
    "event_id",
    [
        str(uuid.uuid1()),  # dated by the clock
        "01960b3e-8f6a-7c3d-9b2e-4f5a6b7c8d9e",  # version 7: ordered by time
        "42",  # a sequence number
    ],
)
def test_a_coarse_event_takes_only_a_random_id(event_id: str) -> None:
    with pytest.raises(ValueError, match="random \\(version 4\\) UUID"):
        encode(examples.RESPONSE_SUBMITTED, event_id=event_id)


def test_a_consumer_refuses_a_response_dated_finer_than_the_day() -> None:
    record = encode(examples.RESPONSE_SUBMITTED, time=NOON)
    headers = [
        (name, b"2026-03-16T12:34:56Z" if name == "ce_time" else value)
        for name, value in record.headers
    ]

    with pytest.raises(InvalidEvent, match="finer than response-submitted events allow"):
        decode(record.value, headers)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        encode(examples.RESULTS_RELEASED, time=datetime(2026, 3, 16, 12, 0))


def test_the_envelope_headers_cannot_be_overridden() -> None:
    with pytest.raises(ValueError, match="belongs to the envelope"):
        encode(examples.PLAN_UPDATED, headers=[("ce_time", b"2026-03-16T12:34:56Z")])


# --- malformed messages ------------------------------------------------------------------

GOOD = encode(examples.RESPONSE_SUBMITTED, time=NOON, headers=[TRACEPARENT])
Headers = list[tuple[str, bytes]]


def _replace(name: str, value: bytes) -> Headers:
    return [(n, value if n == name else v) for n, v in GOOD.headers]


def _without(name: str) -> Headers:
    return [(n, v) for n, v in GOOD.headers if n != name]


def _body(**changes: object) -> bytes:
    body = json.loads(GOOD.value)
    body.update(changes)
    return json.dumps(body).encode()


def _body_without(name: str) -> bytes:
    body = json.loads(GOOD.value)
    del body[name]
    return json.dumps(body).encode()


Case = tuple[bytes | None, Headers, str]
MALFORMED: dict[str, Case] = {
    "no value": (None, GOOD.headers, "has no value"),
    **{
        f"no {name}": (GOOD.value, _without(name), f"missing header '{name}'")
        for name in REQUIRED_HEADERS
    },
    "unknown type": (
        GOOD.value,
        _replace("ce_type", b"no.forbedring.survey.response-deleted.v1"),
        "unknown event type (ce_type) 'no.forbedring.survey.response-deleted.v1'",
    ),
    "other spec version": (
        GOOD.value,
        _replace("ce_specversion", b"0.3"),
        "ce_specversion is '0.3'",
    ),
    "wrong source": (
        GOOD.value,
        _replace("ce_source", b"/forbedring/aggregation"),
        "expected '/forbedring/survey'",
    ),
    "not json content": (
        GOOD.value,
        _replace("content-type", b"text/plain"),
        "content-type is 'text/plain'",
    ),
    "empty id": (GOOD.value, _replace("ce_id", b" "), "ce_id is empty"),
    "bad time": (GOOD.value, _replace("ce_time", b"yesterday"), "not an RFC 3339"),
    "local time": (
        GOOD.value,
        _replace("ce_time", b"2026-03-16T00:00:00"),
        "has no UTC offset",
    ),
    "header twice": (
        GOOD.value,
        [*GOOD.headers, ("ce_type", b"no.forbedring.survey.response-submitted.v1")],
        "'ce_type' appears more than once",
    ),
    "header not utf-8": (GOOD.value, _replace("ce_id", b"\xff\xfe"), "not UTF-8"),
    "invalid json": (b'{"response_id": ', GOOD.headers, "the body is not valid JSON"),
    "not an object": (b"[1, 2]", GOOD.headers, "not a valid response-submitted event"),
    "answer out of range": (
        _body(answers={"sc1": 6}),
        GOOD.headers,
        "answers.sc1",
    ),
    "field missing": (
        _body_without("response_id"),
        GOOD.headers,
        "response_id: Field required",
    ),
    "not a random id": (
        _body(response_id=str(uuid.uuid1())),
        GOOD.headers,
        "response_id: UUID version 4 expected",
    ),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_message_raises_invalid_event_saying_why(case: Case) -> None:
    value, headers, reason = case

    with pytest.raises(InvalidEvent) as raised:
        decode(value, headers)

    assert reason in raised.value.reason
    assert reason in str(raised.value)


def test_an_event_on_the_wrong_topic_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="does not belong on topic"):
        decode(GOOD.value, GOOD.headers, topic=topics.UNIT_RESULTS)


def test_an_event_under_the_wrong_key_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="record key b'K1' is not the event's unit_id 'S11'"):
        decode(GOOD.value, GOOD.headers, key=b"K1")


def test_invalid_event_is_a_value_error() -> None:
    assert issubclass(InvalidEvent, ValueError)


# --- forward compatibility and structure -------------------------------------------------


def test_a_consumer_tolerates_fields_added_later() -> None:
    received = decode(_body(added_in_a_later_release={"x": 1}), GOOD.headers)

    assert received.event == examples.RESPONSE_SUBMITTED


def test_a_suppressed_unit_cannot_carry_a_number() -> None:
    for name, field in SuppressedUnitResults.model_fields.items():
        assert field.annotation not in (int, float), name
    record = encode(examples.SUPPRESSED_UNIT_RESULTS, time=NOON)
    smuggled = json.loads(record.value) | {"respondents": 3, "mean": 42.0}

    received = decode(json.dumps(smuggled).encode(), record.headers).event

    assert received == examples.SUPPRESSED_UNIT_RESULTS
    assert "respondents" not in received.model_dump_json()


def test_a_response_carries_nothing_but_its_id_unit_version_and_answers() -> None:
    body = json.loads(encode(examples.RESPONSE_SUBMITTED).value)

    assert set(body) == {"response_id", "period_id", "unit_id", "questionnaire_version", "answers"}
    assert set(ResponseSubmitted.model_fields) == set(body)


def test_a_malformed_unit_result_says_what_is_missing() -> None:
    record = encode(examples.SUPPRESSED_UNIT_RESULTS, time=NOON)
    body = json.loads(record.value)
    del body["included_in"]

    with pytest.raises(InvalidEvent, match="unit-results event: included_in: Field required"):
        decode(json.dumps(body).encode(), record.headers)


def test_many_events_encode_as_each_would_alone_with_random_ids() -> None:
    events = [examples.PLAN_UPDATED, examples.RESULTS_RELEASED, examples.PLAN_UPDATED]
    many = envelope.encode_many(events, time=NOON)
    alone = [encode(e, time=NOON) for e in events]

    assert [(r.topic, r.key, r.value, r.timestamp_ms) for r in many] == [
        (r.topic, r.key, r.value, r.timestamp_ms) for r in alone
    ]
    for one, other in zip(many, alone, strict=True):
        assert {n: v for n, v in one.headers if n != "ce_id"} == {
            n: v for n, v in other.headers if n != "ce_id"
        }
        assert decode(one.value, one.headers, key=one.key, topic=one.topic).event == (
            decode(other.value, other.headers).event
        )
    ids = [dict(r.headers)["ce_id"].decode() for r in many]
    assert len(set(ids)) == len(ids)
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 4 for i in ids)


def test_many_coarse_events_are_dated_as_each_would_be() -> None:
    many = envelope.encode_many([examples.RESPONSE_SUBMITTED], time=NOON)

    assert _time_header(many[0]) == _time_header(encode(examples.RESPONSE_SUBMITTED, time=NOON))
