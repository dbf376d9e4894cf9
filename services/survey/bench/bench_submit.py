"""Benchmark: submissions per second and latency of POST /api/v1/responses against real
PostgreSQL (and Kafka, Redis), next to GET /healthz of the same process in the same run.

    source <(deploy/local/infra.sh env)
    uv run python services/survey/bench/bench_submit.py [--people 2000] [--concurrency 32]

Starts the survey as its own process (uvicorn, one worker) on a fresh database and
private topics, opens a period with `--people` invitations in units of 50, signs everyone
in with the development issuer, then submits one complete response per invitation with
`--concurrency` clients in flight, and afterwards times as many /healthz requests with
the same concurrency. Writes bench-results/survey-submit.json. Not a test: no timing is
asserted anywhere.
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from forbedring_chassis.testing import (
    REPO_ROOT,
    create_database,
    drop_database,
    free_port,
    locate_infrastructure,
    service_environment,
)
from forbedring_chassis.topic_admin import apply_topics, load_topics
from forbedring_survey.testing import HR_ADMIN, SurveyApi, people_of, small_organisation


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def timed(
    count: int, concurrency: int, request: Callable[[int], Awaitable[int]]
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            code = await request(index)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[code] = statuses.get(code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": count,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(elapsed, 3),
        "per_second": round(count / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
    }


async def run(people: int, concurrency: int) -> dict[str, Any]:
    infrastructure = locate_infrastructure()
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    await apply_topics(
        infrastructure.kafka_bootstrap_servers,
        load_topics(REPO_ROOT / "deploy" / "topics.yaml", prefix=prefix),
    )
    name = f"bench_survey_{uuid.uuid4().hex[:8]}"
    database_url = await create_database(infrastructure.database_url, name)
    port = free_port()
    env = {
        **os.environ,
        **service_environment(
            "survey",
            infrastructure=infrastructure,
            database_url=database_url,
            topic_prefix=prefix,
            port=port,
        ),
        "SURVEY_DEV_ISSUER_ENABLED": "true",
        "SURVEY_HR_ADMINS": json.dumps([HR_ADMIN]),
        "SURVEY_SCHEDULER_INTERVAL_S": "0.5",
        "SURVEY_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "forbedring_survey"], env=env)  # noqa: ASYNC220
    try:
        base = f"http://127.0.0.1:{port}"
        limits = httpx.Limits(max_connections=concurrency * 2)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            api = SurveyApi(client)
            units = {f"u{n:03d}": 50 for n in range(max(1, people // 50))}
            organisation = small_organisation(units)
            await api.open_period(organisation)
            everyone = [p for unit in units for p in people_of(organisation, unit)]
            invitations: list[tuple[str, str]] = []
            for chunk in range(0, len(everyone), concurrency):
                batch = everyone[chunk : chunk + concurrency]
                found = await asyncio.gather(*(api.invitations(p) for p in batch))
                invitations += [
                    (p, i[0]["invitation_id"]) for p, i in zip(batch, found, strict=True)
                ]

            async def submit(index: int) -> int:
                person, invitation = invitations[index]
                return (await api.submit(person, invitation)).status_code

            async def healthz(index: int) -> int:
                return (await client.get("/healthz")).status_code

            await timed(min(200, len(invitations)), concurrency, healthz)  # warm-up
            submissions = await timed(len(invitations), concurrency, submit)
            trivial = await timed(len(invitations), concurrency, healthz)
    finally:
        process.terminate()
        process.wait(timeout=30)
        await drop_database(infrastructure.database_url, name)
    result = {
        "benchmark": "survey POST /api/v1/responses vs GET /healthz, same process, same run",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "setup": {
            "people": len(invitations),
            "concurrency": concurrency,
            "server": "uvicorn, 1 worker",
            "database": "PostgreSQL (local)",
        },
        "submit": submissions,
        "healthz": trivial,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "bench-results" / "survey-submit.json"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args.people, args.concurrency))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
