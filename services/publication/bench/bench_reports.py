"""Publication report benchmark on the real PostgreSQL, Redis and Kafka; figures, not
assertions.

    source <(deploy/local/infra.sh env)
    uv run python services/publication/bench/bench_reports.py [--requests 2000]

The service runs in this process (ASGI, no network), on a fresh database and fresh
topics, with one period of 200 units (40 items, 8 factors each) read in through the
ingest use cases and released to stage 1. Measured, for one unit's report data:

1. uncached: requests one after another, the cache key deleted before each;
2. cached: `--requests` requests, 50 at a time, on a warm key;
3. release moment: 500 concurrent first requests for a cold key, and how many times the
   data was computed (single flight: once).

Writes `bench-results/publication.json` (repository root).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from forbedring_chassis.clock import SettableClock
from forbedring_chassis.db import unit_of_work
from forbedring_chassis.testing import (
    REPO_ROOT,
    bench_settings,
    in_process,
    signed_in_as,
    verifier_for_tests,
)
from forbedring_contracts.events import (
    DirectoryUpdated,
    FactorResult,
    PublishedUnitResults,
    ResultsFinalized,
    RoleAssignment,
    ScaleDistribution,
    ScaleItemResult,
    Unit,
    results_checksum,
)
from forbedring_publication import ingest, release
from forbedring_publication.app import create_app
from forbedring_publication.cache import ReportCache
from forbedring_publication.settings import PublicationSettings

UNITS = 200
NOW = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)


def unit_results(period_id: str, unit_id: str) -> PublishedUnitResults:
    return PublishedUnitResults(
        published=True,
        period_id=period_id,
        unit_id=unit_id,
        respondents=40,
        eligible=50,
        factors=tuple(
            FactorResult(factor_id=f"f{i}", scored=40, mean=71.5, percent_positive=55.0)
            for i in range(8)
        ),
        items=tuple(
            ScaleItemResult(
                kind="scale",
                item_id=f"i{i}",
                distribution=ScaleDistribution(
                    strongly_disagree=2,
                    disagree=4,
                    neither=8,
                    agree=14,
                    strongly_agree=10,
                    dont_know=2,
                ),
                valid=38,
                mean=68.4,
                percent_agree=63.2,
            )
            for i in range(40)
        ),
        withheld_items=(),
        withheld_items_included_in=None,
        indicators=(),
    )


async def seed(app: Any, period_id: str) -> None:
    sessions = app.state.runtime.sessions
    ids = ["HF", *[f"U{i}" for i in range(UNITS - 1)]]
    results = [unit_results(period_id, u) for u in ids]
    defaults = {"default_stage_1_delay": timedelta(0), "default_stage_2_delay": timedelta(7)}
    async with unit_of_work(sessions) as session:
        await ingest.directory_updated(
            session,
            event=DirectoryUpdated(
                period_id=period_id,
                units=tuple(
                    Unit(unit_id=u, parent_id=None if u == "HF" else "HF", name=u, level="2")
                    for u in ids
                ),
                roles=(
                    RoleAssignment(
                        person_id="E-LEAD",
                        unit_id="HF",
                        role="leader",
                        name="Leder",
                        email="leder@example.org",
                        language="nb",
                    ),
                ),
            ),
        )
        for result in results:
            await ingest.unit_results(session, event=result, **defaults)
        await ingest.results_finalized(
            session,
            event=ResultsFinalized(
                period_id=period_id,
                unit_count=len(results),
                published_count=len(results),
                checksum=results_checksum(
                    [(r.unit_id, r.model_dump_json().encode()) for r in results]
                ),
                finalized_at=NOW,
            ),
            **defaults,
        )
    async with unit_of_work(sessions) as session:
        await release.release_due(session, now=NOW + timedelta(minutes=1))


async def main(requests: int) -> dict[str, Any]:
    async with bench_settings(PublicationSettings) as settings:
        app = create_app(settings, clock=SettableClock(NOW), verifier=verifier_for_tests())
        async with in_process(app, "http://bench") as client:
            return await run(app, client, requests)


async def run(app: Any, client: httpx.AsyncClient, requests: int) -> dict[str, Any]:
    period_id = f"bench-{uuid.uuid4().hex[:8]}"
    headers = signed_in_as("E-LEAD")
    figures: dict[str, Any] = {"units": UNITS, "items_per_unit": 40, "transport": "in-process ASGI"}
    await seed(app, period_id)
    cache: ReportCache = app.state.report_cache
    redis = app.state.runtime.redis
    path = f"/api/v1/periods/{period_id}/units/U7/results"
    key = cache.key(period_id=period_id, unit_id="U7", stage=1, language="nb")

    uncached = min(300, requests)
    started = time.perf_counter()
    for _ in range(uncached):
        await redis.delete(key)
        assert (await client.get(path, headers=headers)).status_code == 200
    elapsed = time.perf_counter() - started
    figures["uncached"] = {"requests": uncached, "per_second": uncached / elapsed}

    semaphore = asyncio.Semaphore(50)

    async def one() -> None:
        async with semaphore:
            assert (await client.get(path, headers=headers)).status_code == 200

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    elapsed = time.perf_counter() - started
    figures["cached"] = {
        "requests": requests,
        "concurrency": 50,
        "per_second": requests / elapsed,
    }

    cold = f"/api/v1/periods/{period_id}/units/U9/results?lang=en"
    cold_key = cache.key(period_id=period_id, unit_id="U9", stage=1, language="en")
    started = time.perf_counter()
    replies = await asyncio.gather(*(client.get(cold, headers=headers) for _ in range(500)))
    elapsed = time.perf_counter() - started
    figures["release_moment"] = {
        "concurrent_first_requests": 500,
        "ok": sum(r.status_code == 200 for r in replies),
        "computations": cache.computations[cold_key],
        "seconds": elapsed,
    }
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    result = asyncio.run(main(args.requests))
    result["measured_at"] = datetime.now(UTC).isoformat()
    out = Path(REPO_ROOT) / "bench-results" / "publication.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
