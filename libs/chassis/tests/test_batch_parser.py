"""The batch consumer's parser hands the telemetry middleware only traced records' headers."""

from typing import Any

from aiokafka import ConsumerRecord
from faststream.message import StreamMessage

from forbedring_chassis.consumer import _parse_batch


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
    traced = [("ce_id", b"2"), ("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")]
    records = (
        _record(1, [("ce_id", b"1")]),
        _record(2, traced),
        _record(3, [("ce_id", b"3")]),
    )
    message = await _parse_batch(records, _original)
    assert message.raw_message == records
    assert message.body == [b"v1", b"v2", b"v3"]
    assert message.headers == {"ce_id": "1"}
    assert message.batch_headers == [{n: v.decode() for n, v in traced}]
    assert message.message_id == "1-3-1001"


async def test_an_untraced_batch_has_no_batch_headers() -> None:
    records = (_record(5, [("ce_id", b"5")]), _record(6, [("ce_id", b"6")]))
    message = await _parse_batch(records, _original)
    assert message.batch_headers == []
    assert message.body == [b"v5", b"v6"]
