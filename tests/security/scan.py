"""What the privacy scan reads, each as (where, text) pairs: every record on every topic of
a prefix, every row of every table of a database, every key and value in Redis for a
period; and the rules it applies to them (docs/anonymity.md, docs/suppression.md)."""

import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from openpyxl import load_workbook
from redis.asyncio import Redis

from forbedring_chassis.testing import plain_url

Found = tuple[str, str]
"""(where it was found, the text)."""


async def every_record(servers: str, prefix: str) -> list[Found]:
    """Every record on every topic under `prefix`, from the start: key, headers and body."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
    ]
    reader = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await reader.start()
    found: list[Found] = []
    try:
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        left = {tp for tp, end in ends.items() if end > 0}
        while left:
            batch = await reader.getmany(*left, timeout_ms=1000)
            for tp, records in batch.items():
                for r in records:
                    headers = {k: v.decode(errors="replace") for k, v in r.headers}
                    text = " ".join(
                        [
                            (r.key or b"").decode(errors="replace"),
                            json.dumps(headers),
                            (r.value or b"").decode(errors="replace"),
                        ]
                    )
                    found.append((f"{tp.topic}[{tp.partition}]@{r.offset}", text))
                    if r.offset + 1 >= ends[tp]:
                        left.discard(tp)
    finally:
        await reader.stop()
    return found


async def every_row(database_url: str, *, leave_out: Iterable[str] = ()) -> list[Found]:
    """Every row of every table in the database's public schema, but `leave_out`."""
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        tables = [
            row["table_name"]
            for row in await connection.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
            if row["table_name"] not in set(leave_out)
        ]
        found: list[Found] = []
        for table in tables:
            for index, row in enumerate(await connection.fetch(f'SELECT * FROM "{table}"')):
                text = json.dumps({k: str(v) for k, v in dict(row).items()}, ensure_ascii=False)
                found.append((f"{database_url.rsplit('/', 1)[-1]}.{table}#{index}", text))
        return found
    finally:
        await connection.close()


async def every_cache_entry(redis_url: str, period_id: str) -> list[Found]:
    """Every Redis key naming the period, with its value."""
    redis = Redis.from_url(redis_url)
    found: list[Found] = []
    try:
        async for key in redis.scan_iter(match=f"*{period_id}*", count=1000):
            value = await redis.get(key) if await redis.type(key) == b"string" else b""
            name = _text(key)
            found.append((f"redis {name}", f"{name} {_text(value or b'')}"))
    finally:
        await redis.aclose()
    return found


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode(errors="replace")


def workbook_text(content: bytes) -> str:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(
        str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
    )


def word(value: str) -> re.Pattern[str]:
    """`value` standing alone (not inside a longer id)."""
    return re.compile(rf"(?<![\w.@-]){re.escape(value)}(?![\w@-])", re.IGNORECASE)


@dataclass(frozen=True)
class Linkage:
    where: str
    person: str
    response_mark: str


def linked(
    found: Iterable[Found], people: Iterable[str], response_marks: Iterable[re.Pattern[str]]
) -> Iterator[Linkage]:
    """Each place where a person (an employee id or email) stands next to anything about
    a response (a response id, its answers): in one record, row or line."""
    person_patterns = [(p, word(p)) for p in people]
    marks = list(response_marks)
    for where, text in found:
        mark = next((m.pattern for m in marks if m.search(text)), None)
        if mark is None:
            continue
        for person, pattern in person_patterns:
            if pattern.search(text):
                yield Linkage(where, person, mark)


def figures_found(found: Iterable[Found], figures: Iterable[re.Pattern[str]]) -> list[str]:
    hits = []
    for where, text in found:
        for figure in figures:
            for match in figure.finditer(text):
                start = max(match.start() - 60, 0)
                hits.append(f"{where}: {figure.pattern!r} in …{text[start : match.end() + 60]}…")
    return hits
