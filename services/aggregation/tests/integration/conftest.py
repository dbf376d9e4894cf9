"""The aggregation service on the real broker and PostgreSQL: in this process
(`aggregation`) or as OS processes (`launch_service` from tests/conftest.py), on private
topics, with helpers to read its database and the topics it publishes."""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from forbedring_aggregation import testing as synth
from forbedring_aggregation.app import create_app
from forbedring_aggregation.counting import layout_of
from forbedring_aggregation.domain.scoring import factor_counts, item_counts
from forbedring_aggregation.settings import AggregationSettings
from forbedring_aggregation.testing import UnitTruth
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    free_port,
    in_process,
    plain_url,
    service_environment,
    settings_for_tests,
    signed_in_as,
    unique_name,
    verifier_for_tests,
)
from forbedring_contracts import topics
from forbedring_contracts.events import Questionnaire


async def sql(database_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        rows: list[asyncpg.Record] = await connection.fetch(query, *args)
        return rows
    finally:
        await connection.close()


async def counted(database_url: str, period_id: str) -> int:
    rows = await sql(
        database_url,
        "SELECT coalesce(sum(respondents), 0) AS n FROM unit_counts WHERE period_id = $1",
        period_id,
    )
    return int(rows[0]["n"])


async def all_read(infrastructure: Infrastructure, topic_prefix: str, database_url: str) -> None:
    """Wait until the service writing to `database_url` has applied everything sent so far
    to response-submitted and period-closed: a marker goes to every partition of each
    (a response, and a close request, of a period of its own), and the markers are waited
    for in the database. A partition is applied in order, so what was sent to it before its
    marker has been applied once the marker shows. To assert that nothing more happened,
    wait for this, never sleep."""
    marker = unique_name("marker")
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await producer.start()
    try:
        sent = {}
        for topic, event in (
            (topics.RESPONSE_SUBMITTED, lambda p: synth.marker_response(marker, p)),
            (topics.PERIOD_CLOSED, lambda p: synth.period_closed(f"{marker}-{p}", {})),
        ):
            partitions = sorted(await producer.partitions_for(topic_prefix + topic))
            for partition in partitions:
                record = synth.encoded([event(partition)])[0]
                await producer.send_and_wait(
                    topic_prefix + record.topic,
                    record.value,
                    key=record.key,
                    partition=partition,
                    headers=[(k, v.encode()) for k, v in record.headers.items()],
                )
            sent[topic] = len(partitions)
    finally:
        await producer.stop()

    async def markers_applied() -> bool:
        closed = await sql(
            database_url,
            "SELECT count(*) AS n FROM close_requests WHERE period_id LIKE $1",
            f"{marker}-%",
        )
        return (
            await counted(database_url, marker) == sent[topics.RESPONSE_SUBMITTED]
            and closed[0]["n"] == sent[topics.PERIOD_CLOSED]
        )

    await eventually(markers_applied, timeout=60)


async def snapshot_rows(database_url: str, period_id: str) -> list[tuple[str, bytes]]:
    rows = await sql(
        database_url,
        "SELECT unit_id, value FROM snapshot_units WHERE period_id = $1 ORDER BY unit_id",
        period_id,
    )
    return [(r["unit_id"], bytes(r["value"])) for r in rows]


async def assert_counts_match(
    database_url: str, period_id: str, q: Questionnaire, truth: dict[str, UnitTruth]
) -> None:
    """The service's leaf counters equal the independently computed ground truth."""
    layout = layout_of(q)
    rows = await sql(
        database_url,
        "SELECT unit_id, respondents, counters FROM unit_counts WHERE period_id = $1",
        period_id,
    )
    assert {r["unit_id"] for r in rows} == set(truth)
    for row in rows:
        expected = truth[row["unit_id"]]
        vector = list(row["counters"])
        assert row["respondents"] == expected.respondents
        for item in q.items:
            counts = item_counts(layout, vector, item.item_id)
            want: Mapping[str, int] = expected.options.get(item.item_id, Counter())
            options = ("1", "2", "3", "4", "5", "dont_know", "yes", "no")
            assert dict(zip(options, counts.options, strict=True)) == {
                o: want.get(o, 0) for o in options
            }, (row["unit_id"], item.item_id)
        for factor in q.factors:
            fc = factor_counts(layout, vector, factor.factor_id)
            assert fc.scored == expected.scored.get(factor.factor_id, 0)
            assert fc.positive == expected.positive.get(factor.factor_id, 0)
            want_sum = expected.score_sum.get(factor.factor_id, Fraction(0))
            assert Fraction(fc.score_sum * 25, layout.unit) == want_sum


async def read_topic(
    infrastructure: Infrastructure, topic: str, *, settle_s: float = 2.0, timeout_s: float = 60.0
) -> list[Any]:
    """Every record on `topic` from the start, once nothing new arrived for `settle_s`."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=unique_name("reader"),
    )
    await consumer.start()
    found: list[Any] = []
    try:
        quiet = 0.0
        waited = 0.0
        while waited < timeout_s and (not found or quiet < settle_s):
            batch = await consumer.getmany(timeout_ms=500)
            waited += 0.5
            fresh = [r for records in batch.values() for r in records]
            found.extend(fresh)
            quiet = 0.0 if fresh else quiet + 0.5
    finally:
        await consumer.stop()
    return found


def bodies(records: list[Any], period_id: str) -> list[dict[str, Any]]:
    out = [json.loads(r.value) for r in records]
    return [b for b in out if b.get("period_id") == period_id]


@dataclass
class Running:
    client: httpx.AsyncClient
    settings: AggregationSettings


@pytest.fixture
async def aggregation(
    infrastructure: Infrastructure, private_topic_prefix: str, databases: Databases
) -> Callable[..., Any]:
    """Start aggregation in this process: `async with aggregation() as running`; keyword
    arguments override its settings."""

    @asynccontextmanager
    async def start(
        database_url: str | None = None, group: str | None = None, **overrides: Any
    ) -> AsyncIterator[Running]:
        settings = await settings_for_tests(
            AggregationSettings,
            infrastructure=infrastructure,
            databases=databases,
            topic_prefix=private_topic_prefix,
            database_url=database_url,
            consumer_group=group or unique_name("aggregation"),
            finalise_interval_s=0.5,
            # Tiny slices: a batch is applied in several, so duplicates across slices,
            # held responses and the pipelined writing are all exercised.
            slice_records=7,
            **overrides,
        )
        app = create_app(settings, verifier=verifier_for_tests())
        signed_in = signed_in_as(synth.HR_ADMIN)
        async with in_process(app, "http://agg", headers=signed_in, startup_s=30) as client:
            yield Running(client, settings)

    return start


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    url: str


@pytest.fixture
async def launch(
    infrastructure: Infrastructure, private_topic_prefix: str
) -> AsyncIterator[Callable[..., Any]]:
    """Start aggregation as its own OS process (`python -m forbedring_aggregation`)."""
    started: list[Process] = []

    async def start(
        *,
        database_url: str,
        group: str,
        extra_env: dict[str, str] | None = None,
        stderr: Path | None = None,
    ) -> Process:
        port = free_port()
        env = {
            **os.environ,
            **service_environment(
                "aggregation",
                infrastructure=infrastructure,
                database_url=database_url,
                topic_prefix=private_topic_prefix,
                port=port,
                consumer_group=group,
            ),
            "AGGREGATION_FINALISE_INTERVAL_S": "0.5",
            **(extra_env or {}),
        }
        with stderr.open("wb") if stderr is not None else contextlib.nullcontext() as errors:
            process = subprocess.Popen(
                [sys.executable, "-m", "forbedring_aggregation"], env=env, stderr=errors
            )
        handle = Process(process, f"http://127.0.0.1:{port}")
        started.append(handle)
        async with httpx.AsyncClient() as client:
            # Generous: on a loaded 2-core machine a process with its count workers has
            # taken over a minute to start.
            for _ in range(900):
                assert process.poll() is None, f"aggregation exited with {process.returncode}"
                try:
                    if (await client.get(f"{handle.url}/readyz")).status_code == 200:
                        return handle
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("aggregation not ready within 180 s")

    yield start
    for handle in started:
        if handle.process.poll() is None:
            handle.process.terminate()
            try:
                handle.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                handle.process.kill()


UNIT_RESULTS = topics.UNIT_RESULTS
RESULTS_FINALIZED = topics.RESULTS_FINALIZED
