"""The batch consumer's parser hands the telemetry middleware only traced records' headers."""

from typing import Any

from aiokafka import ConsumerRecord
from faststream.message import StreamMessage

from forbedring_chassis.consumer.kafka import parse_batch
from forbedring_chassis.wire import REQUIRED_HEADERS


def _envelope(event_id: str) -> list[tuple[str, bytes]]:
    """The headers every event carries (values do not matter to the parser)."""
    return [(name, event_id.encode() if name == "ce_id" else b"x") for name in REQUIRED_HEADERS]


def _record(offset: int, headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="t",
        partition=0,
        offset=offset,
        timestamp=1000 + offset,
        timestamp_type=0,
        key=b"k",
        value=f"v{offset}".encode(),
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=2,
        headers=headers,
    )


async def _original(records: tuple[ConsumerRecord[bytes, bytes], ...]) -> StreamMessage[Any]:
    first = records[0]
    headers = {name: value.decode() for name, value in first.headers}
    return StreamMessage(
        raw_message=records,
        body=[r.value for r in records],
        headers=headers,
        batch_headers=[{n: v.decode() for n, v in r.headers} for r in records],
    )


async def test_only_traced_records_reach_the_batch_headers() -> None:
    traced = [*_envelope("2"), ("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")]
    records = (
        _record(1, _envelope("1")),
        _record(2, traced),
        _record(3, _envelope("3")),
    )
    message = await parse_batch(records, _original)
    assert message.raw_message == records
    assert message.body == [b"v1", b"v2", b"v3"]
    assert message.headers == {n: v.decode() for n, v in _envelope("1")}
    assert message.batch_headers == [{n: v.decode() for n, v in traced}]
    assert message.message_id == "1-3-1001"


async def test_an_untraced_batch_has_no_batch_headers() -> None:
    records = (_record(5, _envelope("5")), _record(6, _envelope("6")))
    message = await parse_batch(records, _original)
    assert message.batch_headers == []
    assert message.body == [b"v5", b"v6"]
