"""What is on the broker now: the records of one period on some topics, read to the end
they have (two seconds without a record after the last), with their event ids."""

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from aiokafka import AIOKafkaConsumer

from forbedring_chassis.testing import unique_name


class Record(NamedTuple):
    topic: str
    body: dict[str, Any]
    event_id: str  # the envelope's ce_id: a copy sent again after a crash carries the same


async def records_of(servers: str, topics: Sequence[str], period_id: str) -> list[Record]:
    """Every record of `period_id` on `topics` (full names), in each partition's order."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=servers,
        auto_offset_reset="earliest",
        group_id=unique_name("faults-reader"),
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Record] = []
    try:
        empty = 0
        while empty < 8:
            batch = await consumer.getmany(timeout_ms=250)
            records = [r for rs in batch.values() for r in rs]
            empty = 0 if records else empty + 1
            for record in records:
                body = json.loads(record.value)
                if body.get("period_id") == period_id:
                    headers = {k: v.decode() for k, v in record.headers}
                    found.append(Record(record.topic, body, headers["ce_id"]))
    finally:
        await consumer.stop()
    return found
