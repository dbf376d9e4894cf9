"""Actionplan benchmark on the real PostgreSQL, Redis and Kafka; figures, not assertions.

    source <(deploy/local/infra.sh env)
    uv run python services/actionplan/bench/bench_actionplan.py [--seconds 10] [--rounds 3]

The service runs in this process under uvicorn on 127.0.0.1 (its consumers, outbox
relay and scheduler as in production, the scheduler ticked by hand with a settable
clock), on a fresh database and fresh topics. A period of 10,000 units (HF > 99
departments > 9,900 sections) with a leader each is read in; its 10,000 plans, each with
4 focus areas and 5 measures (50,000), are copied into the real schema (after the
migrations) with COPY. Measured, each beside a baseline of the same run:

1. the deadline scheduler: one pass (`Scheduler.tick`, i.e. `reminders.remind_due` and
   its commit) in which every plan and measure crosses a threshold (30, 14, then 7 days
   before the deadline: one round each), beside a plain SELECT of the same rows and a
   pass with nothing due, in the same round; also the time the relay then takes to
   publish the round's reminders to Kafka (goal: the pass under 5 s), each also as this
   process's CPU time, since on a shared machine the wall clock mostly measures the load;
2. the plan page at 50 concurrent requests over real HTTP (the JSON API's unit plan,
   and the HTML page when the app has one), beside `/healthz` of the same app measured
   the same way, alternating, `--rounds` times: requests per second and p99 (goal: at
   least half of `/healthz`'s rate). The load generator is `hey` when installed
   (`go install github.com/rakyll/hey@latest`), else an httpx one in a subprocess.

Writes `bench-results/actionplan.json` (repository root).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import math
import os
import shutil
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from sqlalchemy import text

from forbedring_actionplan import ingest
from forbedring_actionplan.app import create_app
from forbedring_actionplan.scheduler import Scheduler
from forbedring_actionplan.settings import ActionplanSettings
from forbedring_chassis.clock import SettableClock
from forbedring_chassis.db import unit_of_work
from forbedring_chassis.testing import (
    REPO_ROOT,
    bench_settings,
    free_port,
    plain_url,
    signed_in_as,
    verifier_for_tests,
)
from forbedring_contracts import examples
from forbedring_contracts.events import Factor, Item, Questionnaire, Texts

DEPARTMENTS = 99
SECTIONS_PER_DEPARTMENT = 100
MEASURES_PER_PLAN = 5
DEADLINE = date(2027, 6, 30)
OPENED_AT = datetime(2027, 1, 11, 7, 0, tzinfo=UTC)
RELEASED_AT = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
CONCURRENCY = 50
PAGE_UNIT = "S-017-042"
PAGE_LEADER = "L-S-017-042"
FOCUS = (("sc1", "follow_up", "safety_climate"), ("wc1", "follow_up", "working_conditions"))
STRENGTHS = (("sc2", "strength", "safety_climate"), ("wc2", "strength", "working_conditions"))


def _texts(text: str) -> Texts:
    return Texts(nb=f"{text} (nb)", nn=f"{text} (nn)", en=text)


QUESTIONNAIRE = Questionnaire(
    factors=(
        Factor(factor_id="safety_climate", name=_texts("Safety climate")),
        Factor(factor_id="working_conditions", name=_texts("Working conditions")),
    ),
    items=tuple(
        Item(
            item_id=ref,
            kind="scale",
            factor_id=factor,
            reverse_scored=False,
            sensitive=False,
            text=_texts(f"Statement {ref}"),
        )
        for ref, _, factor in (*FOCUS, *STRENGTHS)
    ),
)


def units() -> list[tuple[str, str | None, str, str]]:
    tree: list[tuple[str, str | None, str, str]] = [("HF", None, "Helse Bench HF", "1")]
    for d in range(DEPARTMENTS):
        dept = f"K-{d:03d}"
        tree.append((dept, "HF", f"Klinikk {d}", "2"))
        for s in range(SECTIONS_PER_DEPARTMENT):
            tree.append((f"S-{d:03d}-{s:03d}", dept, f"Seksjon {d}.{s}", "3"))
    return tree


async def seed(database_url: str, period_id: str) -> dict[str, Any]:
    """The directory, plans, focus areas and measures, with COPY into the real tables."""
    tree = units()
    connection = await asyncpg.connect(plain_url(database_url))
    started = time.perf_counter()
    try:
        async with connection.transaction():
            await connection.copy_records_to_table(
                "actionplan_units",
                records=[(period_id, u, parent, name, level) for u, parent, name, level in tree],
                columns=["period_id", "unit_id", "parent_id", "name", "level"],
            )
            people = [(period_id, f"L-{u}", u, "leader", f"Leder {u}") for u, *_ in tree]
            people += [(period_id, "HR-1", "HF", "hr_admin", "HR Bench")]
            people += [
                (period_id, f"E-{u}-{n}", u, "member", f"Ansatt {u} {n}")
                for u, parent, *_ in tree
                if parent not in (None, "HF")
                for n in range(2)
            ]
            await connection.copy_records_to_table(
                "actionplan_people",
                records=people,
                columns=["period_id", "person_id", "unit_id", "role", "name"],
            )
            plans = [
                (f"P-{u}", period_id, u, DEADLINE, 0, 1, False, "own", None, RELEASED_AT)
                for u, *_ in tree
            ]
            await connection.copy_records_to_table(
                "actionplan_plans",
                records=[(*p, RELEASED_AT) for p in plans],
                columns=[
                    "plan_id",
                    "period_id",
                    "unit_id",
                    "deadline",
                    "version",
                    "revision",
                    "changed_since_version",
                    "focus_source",
                    "focus_source_unit_id",
                    "opened_at",
                    "updated_at",
                ],
            )
            await connection.copy_records_to_table(
                "actionplan_focus_areas",
                records=[
                    (f"P-{u}", ref, kind, factor, i, "suggested")
                    for u, *_ in tree
                    for i, (ref, kind, factor) in enumerate((*FOCUS, *STRENGTHS))
                ],
                columns=["plan_id", "ref_id", "kind", "factor_id", "position", "decision"],
            )
            categories = ("patient_safety", "hse", "climate_environment")
            measures = [
                (
                    f"M-{u}-{n}",
                    f"P-{u}",
                    n,
                    categories[n % 3],
                    FOCUS[n % 2][0],
                    f"Tiltak {n + 1} for {name}",
                    "Hva vi gjør, hvem som er med og når vi ser på det igjen.",
                    f"L-{u}",
                    DEADLINE,
                    "Flere melder avvik, og vi lærer av dem.",
                    "",
                    False,
                    "in_progress" if n % 2 else "planned",
                    "",
                    "",
                    1,
                    RELEASED_AT,
                )
                for u, _, name, _ in tree
                for n in range(MEASURES_PER_PLAN)
            ]
            await connection.copy_records_to_table(
                "actionplan_measures",
                records=measures,
                columns=[
                    "measure_id",
                    "plan_id",
                    "position",
                    "category",
                    "linked_id",
                    "title",
                    "description",
                    "responsible_person_id",
                    "deadline",
                    "desired_effect",
                    "extra_resources",
                    "continued",
                    "status",
                    "evaluation_done",
                    "evaluation_observed",
                    "revision",
                    "created_at",
                ],
            )
            await connection.execute(
                "UPDATE actionplan_periods SET plans_opened = true, unit_count = $2, "
                "stage_1_released_at = $3 WHERE period_id = $1",
                period_id,
                len(tree),
                RELEASED_AT,
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {
        "units": len(tree),
        "plans": len(plans),
        "measures": len(measures),
        "people": len(people),
        "seconds": round(time.perf_counter() - started, 2),
    }


async def outbox_count(database_url: str) -> int:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await connection.close()


async def drained(database_url: str, timeout_s: float = 600) -> float:
    """Seconds until the relay has published every staged event (it deletes each row)."""
    started = time.perf_counter()
    while await outbox_count(database_url):
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError("the outbox did not drain")
        await asyncio.sleep(0.1)
    return time.perf_counter() - started


_PLAIN_SELECT = text(
    """
    SELECT m.measure_id, m.title, m.deadline, m.responsible_person_id,
           p.plan_id, p.period_id, p.unit_id
      FROM actionplan_measures m JOIN actionplan_plans p ON p.plan_id = m.plan_id
     WHERE m.deadline IS NOT NULL AND m.deadline <= :horizon
       AND m.status IN ('planned', 'in_progress') AND m.escalated_to_measure_id IS NULL
    """
)
_PLAIN_PLANS = text(
    "SELECT plan_id, period_id, unit_id, deadline FROM actionplan_plans "
    "WHERE version = 0 AND deadline <= :horizon"
)


async def scheduler_rounds(app: Any, clock: SettableClock, database_url: str) -> dict[str, Any]:
    scheduler: Scheduler = app.state.scheduler
    sessions = app.state.runtime.sessions
    rounds: list[dict[str, Any]] = []
    for days_before in (30, 14, 7):
        clock.set(
            datetime.combine(DEADLINE - timedelta(days=days_before), datetime.min.time(), UTC)
            + timedelta(hours=7)
        )
        started, cpu = time.perf_counter(), time.process_time()
        sent = await scheduler.tick()
        pass_s, pass_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        cpu = time.process_time()
        relay_s = await drained(database_url)
        relay_cpu_s = time.process_time() - cpu

        started = time.perf_counter()
        again = await scheduler.tick()
        nothing_due_s = time.perf_counter() - started
        assert not again, "a second pass at the same moment sent reminders again"

        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            horizon = DEADLINE
            measures = (await session.exec(_PLAIN_SELECT.bindparams(horizon=horizon))).all()  # type: ignore[call-overload]
            plans = (await session.exec(_PLAIN_PLANS.bindparams(horizon=horizon))).all()  # type: ignore[call-overload]
        select_s = time.perf_counter() - started
        rounds.append(
            {
                "threshold_days": days_before,
                "reminders": len(sent),
                "pass_s": round(pass_s, 3),
                "pass_cpu_s": round(pass_cpu_s, 3),
                "relay_to_kafka_s": round(relay_s, 3),
                "relay_cpu_s": round(relay_cpu_s, 3),
                "load_average": os.getloadavg()[0],
                "baseline_nothing_due_pass_s": round(nothing_due_s, 3),
                "baseline_plain_select_s": round(select_s, 3),
                "plain_select_rows": len(measures) + len(plans),
            }
        )
        print(json.dumps(rounds[-1]), flush=True)

    def summary(key: str) -> dict[str, float]:
        values = [r[key] for r in rounds]
        return {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
        }

    return {
        "rounds": rounds,
        "pass_s": summary("pass_s"),
        "baseline_plain_select_s": summary("baseline_plain_select_s"),
        "baseline_nothing_due_pass_s": summary("baseline_nothing_due_pass_s"),
        "relay_to_kafka_s": summary("relay_to_kafka_s"),
        "pass_cpu_s": summary("pass_cpu_s"),
        "relay_cpu_s": summary("relay_cpu_s"),
        "load_average": summary("load_average"),
        "goal_s": 5.0,
        "goal_met": all(r["pass_s"] < 5.0 for r in rounds),
    }


# --- load ---------------------------------------------------------------------------------


def hey_binary() -> str | None:
    found = shutil.which("hey")
    if found:
        return found
    home = Path(os.environ.get("GOPATH", Path.home() / "go")) / "bin" / "hey"
    return str(home) if home.is_file() else None


async def hey(binary: str, url: str, headers: dict[str, str], seconds: float) -> dict[str, Any]:
    """`hey` for `seconds` at CONCURRENCY; the rate and p99 from its per-request CSV (its
    summary leaves the 99th percentile out when there are few responses)."""
    args = [binary, "-z", f"{seconds}s", "-c", str(CONCURRENCY), "-o", "csv"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    process = await asyncio.create_subprocess_exec(
        *args, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    if not rows:
        raise RuntimeError(f"hey said:\n{out.decode()[:2000]}\n{err.decode()}")
    times = sorted(float(r["response-time"]) for r in rows)
    elapsed = max(float(r["offset"]) + float(r["response-time"]) for r in rows)
    codes: dict[int, int] = {}
    for r in rows:
        codes[int(r["status-code"])] = codes.get(int(r["status-code"]), 0) + 1
    return {
        "per_second": round(len(rows) / elapsed, 1),
        "p99_ms": round(times[max(0, math.ceil(len(times) * 0.99) - 1)] * 1000, 1),
        "status_codes": codes,
    }


async def httpx_load(url: str, headers: dict[str, str], seconds: float) -> dict[str, Any]:
    """The same measurement as `hey` from a Python process of its own."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--load-generator",
        json.dumps({"url": url, "headers": headers, "seconds": seconds}),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    result: dict[str, Any] = json.loads(out)
    return result


async def _generate(url: str, headers: dict[str, str], seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    errors = [0]
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    reply = await client.get(url)
                except httpx.HTTPError:  # counted, not fatal: a loaded machine drops some
                    errors[0] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                codes[reply.status_code] = codes.get(reply.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "per_second": round(len(latencies) / elapsed, 1),
        "p99_ms": round(latencies[max(0, math.ceil(len(latencies) * 0.99) - 1)] * 1000, 1),
        "status_codes": codes,
        "connection_errors": errors[0],
    }


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


async def html_plan_url(base: str, period_id: str, headers: dict[str, str]) -> str | None:
    """The HTML page of the benchmarked plan, if the app has one: by period and unit,
    else by plan id (the first that answers with a page)."""
    async with httpx.AsyncClient(headers=headers) as client:
        plan = await client.get(f"{base}/api/v1/periods/{period_id}/units/{PAGE_UNIT}/plan")
        plan_id = plan.json()["plan_id"]
        for path in (f"/periods/{period_id}/units/{PAGE_UNIT}", f"/plans/{plan_id}"):
            reply = await client.get(base + path)
            if reply.status_code == 200 and "text/html" in reply.headers.get("content-type", ""):
                return base + path
    return None


async def page_rounds(
    app: Any, base: str, period_id: str, seconds: float, rounds: int
) -> dict[str, Any]:
    binary = hey_binary()
    headers = signed_in_as(PAGE_LEADER)
    targets = {
        "healthz": (f"{base}/healthz", {}),
        "plan_json": (f"{base}/api/v1/periods/{period_id}/units/{PAGE_UNIT}/plan", headers),
    }
    html = await html_plan_url(base, period_id, headers)
    if html:
        targets["plan_html"] = (html, headers)
    async with httpx.AsyncClient(headers=headers) as client:
        for name, (url, _) in targets.items():
            reply = await client.get(url)
            assert reply.status_code == 200, (name, reply.status_code, reply.text[:300])

    async def measure(url: str, with_headers: dict[str, str], s: float) -> dict[str, Any]:
        if binary:
            return await hey(binary, url, with_headers, s)
        return await httpx_load(url, with_headers, s)

    for url, with_headers in targets.values():  # warm up: pools, caches, JIT-free paths
        await measure(url, with_headers, 2)
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    for r in range(rounds):
        for name, (url, with_headers) in targets.items():
            found[name].append(
                {**await measure(url, with_headers, seconds), "load_average": os.getloadavg()[0]}
            )
            print(json.dumps({"round": r + 1, name: found[name][-1]}), flush=True)

    def summary(name: str) -> dict[str, Any]:
        rates = [f["per_second"] for f in found[name]]
        p99s = [f["p99_ms"] for f in found[name]]
        return {
            "per_second": {
                "median": statistics.median(rates),
                "min": min(rates),
                "max": max(rates),
            },
            "p99_ms": {"median": statistics.median(p99s), "min": min(p99s), "max": max(p99s)},
            "rounds": found[name],
        }

    result: dict[str, Any] = {
        "load_generator": "hey" if binary else "httpx (subprocess)",
        "concurrency": CONCURRENCY,
        "seconds_per_round": seconds,
        "transport": "HTTP/1.1 to uvicorn on 127.0.0.1, one process",
        "html_page": html,
    }
    for name in targets:
        result[name] = summary(name)
    for name in targets:
        if name == "healthz":
            continue
        ratios = [
            p["per_second"] / h["per_second"]
            for p, h in zip(found[name], found["healthz"], strict=True)
        ]
        result[f"{name}_vs_healthz"] = {
            "median": round(statistics.median(ratios), 3),
            "min": round(min(ratios), 3),
            "max": round(max(ratios), 3),
            "goal": 0.5,
        }
    return result


async def fill_page_plan(base: str, period_id: str) -> None:
    """The benchmarked plan as a leader leaves it: the staff discussion, focus areas
    decided and two more measures, through the API (so its history is real)."""
    headers = signed_in_as(PAGE_LEADER)
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        plan = (await client.get(f"/api/v1/periods/{period_id}/units/{PAGE_UNIT}/plan")).json()
        plan_id = plan["plan_id"]
        for step in ("leader_above", "representatives", "staff"):
            reply = await client.post(
                f"/api/v1/plans/{plan_id}/dialogue",
                json={"step": step, "held_on": "2027-03-05", "note": "Gjennomgått resultatene."},
            )
            assert reply.status_code == 201, reply.text
        for ref, decision in (("sc1", "accepted"), ("wc1", "accepted"), ("sc2", "dismissed")):
            revision = (await client.get(f"/api/v1/plans/{plan_id}")).json()["revision"]
            reply = await client.post(
                f"/api/v1/plans/{plan_id}/focus-areas/{ref}",
                json={"decision": decision, "revision": revision},
            )
            assert reply.status_code == 200, reply.text
        for n in range(2):
            reply = await client.post(
                f"/api/v1/plans/{plan_id}/measures",
                json={
                    "category": "hse",
                    "linked_id": "wc1",
                    "title": f"Pauser som blir tatt ({n + 1})",
                    "responsible_person_id": PAGE_LEADER,
                    "deadline": DEADLINE.isoformat(),
                    "desired_effect": "Alle får pausene sine.",
                },
            )
            assert reply.status_code == 201, reply.text


async def main(seconds: float, rounds: int) -> dict[str, Any]:
    async with bench_settings(ActionplanSettings) as settings:
        return await run(settings, seconds, rounds)


async def run(settings: ActionplanSettings, seconds: float, rounds: int) -> dict[str, Any]:
    database_url = settings.database_url
    clock = SettableClock(RELEASED_AT + timedelta(days=7))
    app = create_app(settings, clock=clock, verifier=verifier_for_tests())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
        )
    )
    serving = asyncio.create_task(server.serve())
    period_id = f"bench-{uuid.uuid4().hex[:8]}"
    base = f"http://127.0.0.1:{port}"
    figures: dict[str, Any] = {}
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.1)
        async with unit_of_work(app.state.runtime.sessions) as session:
            await ingest.period_opened(
                session,
                event=examples.PERIOD_OPENED.model_copy(
                    update={
                        "period_id": period_id,
                        "organisation_id": "bench",
                        "name": "ForBedring 2027 (bench)",
                        "opens_at": OPENED_AT,
                        "closes_at": OPENED_AT + timedelta(weeks=4),
                        "questionnaire": QUESTIONNAIRE,
                        "plan_deadline": DEADLINE,
                        "units": (),
                    }
                ),
                now=OPENED_AT,
            )
        figures["seed"] = await seed(database_url, period_id)
        print(json.dumps({"seeded": figures["seed"]}), flush=True)
        await fill_page_plan(base, period_id)
        await drained(database_url)
        figures["plan_page"] = await page_rounds(app, base, period_id, seconds, rounds)
        figures["scheduler"] = await scheduler_rounds(app, clock, database_url)
    finally:
        server.should_exit = True
        await serving
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="per load round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load-generator", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_generator:
        job = json.loads(args.load_generator)
        print(json.dumps(asyncio.run(_generate(job["url"], job["headers"], job["seconds"]))))
        sys.exit(0)
    result = asyncio.run(main(args.seconds, args.rounds))
    result["measured_at"] = datetime.now(UTC).isoformat()
    result["machine"] = {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()}
    out = Path(REPO_ROOT) / "bench-results" / "actionplan.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
