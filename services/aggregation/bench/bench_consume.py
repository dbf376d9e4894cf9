"""Aggregation benchmark on the real broker and PostgreSQL; figures, not assertions.

    source <(deploy/local/infra.sh env)
    uv run python services/aggregation/bench/bench_consume.py [--responses 200000] [--units 5000]

1. Produces period-opened, then N responses of 40 answers (36 scale items in 8 factors,
   4 yes/no) over the leaves of a U-unit tree (fan-out 8) to fresh topics.
2. Bare rate: a plain aiokafka consumer reads the N responses and json.loads each value.
   The same reader then does the service's per-record work instead (envelope, contract
   validation, counting) and nothing else: the ceiling of one process, were the
   database free.
3. Aggregation rate: one aggregation service (`python -m forbedring_aggregation`, with
   its counting worker processes) on a fresh database and consumer group, timed from
   ready until every response is counted, in `--rounds` rounds (default 3); before
   them, the same service with no workers (`AGGREGATION_COUNT_WORKERS=0`), on a
   database and group of its own. The bare consumer is timed again after each, and
   every measurement is compared with the bare time around it: this machine's speed
   wanders by half within minutes, and the median of the rounds' ratios is the figure.
   The CPU seconds of the service, its workers, PostgreSQL and Kafka are recorded too.
   As in production, period-opened was consumed before the responses arrived (a first
   run of the service stores it and stops); `--cold` starts the service once on a
   backlog of both, so the responses its first batches bring are held, then folded in.
4. Finalisation: period-closed is produced; the time until results-finalized is on the
   topic (after all U + ancestors unit-results).
5. Ancestor totals, the two designs of issue 4 at this scale: summing the leaf counters
   of the whole tree on demand (read + postorder sum, as the live preview and the
   finaliser do), against the extra cost of maintaining ancestors incrementally (each
   batch upserting the rows of every ancestor of its units too, measured by replaying
   the same batches into a scratch period both ways).

Writes `bench-results/aggregation.json` (repository root).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from forbedring_aggregation import repository
from forbedring_aggregation import testing as synth
from forbedring_aggregation.counting import layout_of
from forbedring_aggregation.domain.scoring import Layout, add_into, tally, tally_into
from forbedring_aggregation.domain.snapshot import PeriodUnit, UnitCounters, build_snapshot
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis import wire
from forbedring_chassis.db import make_engine, make_sessions
from forbedring_chassis.testing import (
    REPO_ROOT,
    create_database,
    drop_database,
    free_port,
    locate_infrastructure,
    plain_url,
    service_environment,
    unique_name,
)
from forbedring_chassis.topic_admin import apply_topics, load_topics
from forbedring_contracts import topics
from forbedring_contracts.events import ResponseSubmitted


async def _counted(database_url: str, period_id: str) -> int:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        value = await connection.fetchval(
            "SELECT coalesce(sum(respondents), 0) FROM unit_counts WHERE period_id = $1",
            period_id,
        )
        return int(value)
    finally:
        await connection.close()


async def _period_stored(database_url: str, period_id: str) -> bool:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        found = await connection.fetchval("SELECT 1 FROM periods WHERE period_id = $1", period_id)
    except asyncpg.UndefinedTableError:  # the service has not migrated its database yet
        return False
    else:
        return found is not None
    finally:
        await connection.close()


async def _bare(servers: str, topic: str, count: int) -> float:
    seconds = await _read(servers, topic, count, lambda r: json.loads(r.value))
    print(f"bare consumer: {seconds:.1f}s", file=sys.stderr)
    return seconds


def _start_aggregation(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "forbedring_aggregation"], env=env)


async def _until_ready(port: int) -> None:
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_by_process_group(service_pid: int) -> dict[str, float]:
    """CPU seconds so far of the service, its worker processes, PostgreSQL and the Kafka
    broker: who uses the machine's cores while the service counts."""
    groups = dict.fromkeys(("service", "service_workers", "postgresql", "kafka"), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        pid = int(entry.name)
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if pid == service_pid:
            group = "service"
        elif parent == service_pid:
            group = "service_workers"
        elif b"postgres" in command.split(b"\0")[0]:
            group = "postgresql"
        elif b"kafka.Kafka" in command or b"kafka-server" in command:
            group = "kafka"
        else:
            continue
        groups[group] += _cpu_seconds(pid)
    return groups


async def _time_counting(
    pid: int, database_url: str, period: str, expected: int
) -> tuple[float, dict[str, float]]:
    """Seconds until the service (ready) has counted `expected` responses, and the CPU
    seconds the machine's processes used meanwhile."""
    started, cpu_before = time.perf_counter(), _cpu_by_process_group(pid)
    while await _counted(database_url, period) < expected:  # noqa: ASYNC110 - polling
        await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    cpu_after = _cpu_by_process_group(pid)
    return elapsed, {group: round(cpu_after[group] - cpu_before[group], 2) for group in cpu_after}


async def _read(
    servers: str, topic: str, expected: int, apply: Callable[[ConsumerRecord], object]
) -> float:
    """Seconds for a plain aiokafka consumer to read `expected` records, `apply` to each."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        auto_offset_reset="earliest",
        group_id=unique_name("bare"),
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        started = time.perf_counter()
        seen = 0
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                for record in records:
                    apply(record)
                    seen += 1
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def _decode_and_count(layout: Layout) -> Callable[[ConsumerRecord], object]:
    """The service's per-record work without the database: the envelope and contract
    validation, then counting into the unit's vector (the ceiling of one process)."""
    vectors: dict[str, list[int]] = {}

    def apply(record: ConsumerRecord) -> object:
        event = wire.decode(
            record.value, list(record.headers), key=record.key, topic=topics.RESPONSE_SUBMITTED
        ).event
        assert isinstance(event, ResponseSubmitted)
        vector = vectors.get(event.unit_id)
        if vector is None:
            vector = vectors[event.unit_id] = layout.zeros()
        tally_into(vector, layout, event.answers)
        return None

    return apply


async def _time_finalisation(
    servers: str, prefix: str, period: str, per_unit: dict[str, int]
) -> float:
    """Seconds from period-closed produced to results-finalized on its topic."""
    waiter = asyncio.create_task(
        _wait_for_finalized(servers, prefix + topics.RESULTS_FINALIZED, period)
    )
    await asyncio.sleep(2.0)  # the waiter is positioned at the end of the topic
    closed_at = time.perf_counter()
    await synth.produce(servers, prefix, synth.encoded([synth.period_closed(period, per_unit)]))
    finalize_s = await waiter - closed_at
    print(f"period-closed -> results-finalized: {finalize_s:.1f}s", file=sys.stderr)
    return finalize_s


async def _wait_for_finalized(servers: str, topic: str, period_id: str) -> float:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=servers, auto_offset_reset="latest", group_id=unique_name("fin")
    )
    await consumer.start()
    try:
        while not consumer.assignment():  # noqa: ASYNC110 - aiokafka has no event for it
            await asyncio.sleep(0.05)
        await consumer.seek_to_end()
        return await _poll_finalized(consumer, period_id)
    finally:
        await consumer.stop()


async def _poll_finalized(consumer: AIOKafkaConsumer, period_id: str) -> float:
    while True:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for record in records:
                if json.loads(record.value).get("period_id") == period_id:
                    return time.perf_counter()


async def _ancestors(
    database_url: str, opened: Any, events: list[Any], batch: int
) -> dict[str, float]:
    """On-demand tree sums vs incremental ancestor upserts, at this scale."""
    engine = make_engine(AggregationSettings(database_url=database_url).database_url)
    sessions = make_sessions(engine)
    layout = layout_of(opened.questionnaire)
    parent = {u.unit_id: u.parent_id for u in opened.units}
    units = [PeriodUnit(u.unit_id, u.parent_id, u.eligible) for u in opened.units]
    out: dict[str, float] = {}
    try:
        started = time.perf_counter()
        async with sessions() as session:
            counts = await repository.unit_counters(session, period_id=opened.period_id)
        read = time.perf_counter() - started
        build_snapshot(
            period_id=opened.period_id,
            units=units,
            layout=layout,
            k=opened.k,
            sensitive_k=opened.sensitive_k,
            counters={u: UnitCounters(n, v or ()) for u, (n, v) in counts.items()},
            indicators=AggregationSettings(database_url=database_url).indicators,
        )
        out["on_demand_read_s"] = round(read, 3)
        out["on_demand_read_sum_and_snapshot_s"] = round(time.perf_counter() - started, 3)

        for mode in ("leaves_only", "with_ancestors"):
            scratch = unique_name(f"scratch_{mode}")
            rows = 0
            elapsed = 0.0
            for first in range(0, len(events), batch):
                deltas: dict[str, list[int]] = {}
                for event in events[first : first + batch]:
                    vector = tally(layout, event.answers)
                    unit: str | None = event.unit_id
                    while unit is not None:
                        add_into(deltas.setdefault(unit, layout.zeros()), vector)
                        unit = parent[unit] if mode == "with_ancestors" else None
                rows += len(deltas)
                started = time.perf_counter()
                async with sessions() as session, session.begin():
                    await repository.add_counts(
                        session,
                        [repository.CountDelta(scratch, u, 1, v) for u, v in deltas.items()],
                    )
                elapsed += time.perf_counter() - started
            out[f"{mode}_upsert_s"] = round(elapsed, 3)
            out[f"{mode}_rows_upserted"] = rows
    finally:
        await engine.dispose()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="AGGREGATION_BATCH_MAX_RECORDS (default: the setting's)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="start each service only once, with period-opened and the responses on the topics",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="how many times the service counts the responses (the ratio is the median)",
    )
    parser.add_argument("--skip-ancestors", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    batch = args.batch or AggregationSettings.model_fields["batch_max_records"].default

    infra = locate_infrastructure()
    servers = infra.kafka_bootstrap_servers
    prefix = f"bench-{unique_name('agg')}."
    await apply_topics(servers, load_topics(REPO_ROOT / "deploy" / "topics.yaml", prefix=prefix))

    rng = random.Random(2026)
    q = synth.questionnaire(scale_items=36, factors=8, yes_no=4)
    # --units counts every unit of the tree: inner units (levels of fan-out 8) and leaves
    inner = len(synth.unit_tree(args.units, fan_out=8)) - args.units
    tree = synth.unit_tree(args.units - inner, fan_out=8)
    leaves = [u for u, _ in tree if "-L" in u]
    per_unit = dict.fromkeys(leaves, 0)
    for _ in range(args.responses):
        per_unit[rng.choice(leaves)] += 1
    period = unique_name("period")
    opened = synth.period_opened(period, tree, q)
    started = time.perf_counter()
    events = synth.responses(rng, period, q, per_unit)
    opened_record, *records = synth.encoded([opened, *events])
    generated = time.perf_counter() - started

    def environment(database_url: str, port: int, **settings: str) -> dict[str, str]:
        env = {
            **os.environ,
            **service_environment(
                "aggregation",
                infrastructure=infra,
                database_url=database_url,
                topic_prefix=prefix,
                port=port,
                consumer_group=unique_name("aggregation"),
            ),
            "AGGREGATION_LOG_LEVEL": "WARNING",
            **settings,
        }
        if args.batch is not None:
            env["AGGREGATION_BATCH_MAX_RECORDS"] = str(args.batch)
        return env

    # The service as configured (once a round), and the same with no counting workers
    # (everything in its one process), each run on a database and consumer group of its own.
    runs: list[tuple[str, str, int, dict[str, str]]] = []  # database, url, port, environment
    for settings in [{"AGGREGATION_COUNT_WORKERS": "0"}] + [{}] * args.rounds:
        name = unique_name("bench_aggregation")
        url = await create_database(infra.database_url, name)
        run_port = free_port()
        runs.append((name, url, run_port, environment(url, run_port, **settings)))
    await synth.produce(servers, prefix, [opened_record])
    if not args.cold:
        # As in production, the running service has consumed period-opened (days) before
        # the responses arrive; started afresh with a backlog of both, it would first hold
        # the responses its batches bring before period-opened (the --cold case).
        for _, url, _, service_env in runs:
            process = _start_aggregation(service_env)
            try:
                while not await _period_stored(url, period):  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            finally:
                _stop(process)

    started = time.perf_counter()
    await synth.produce(servers, prefix, records)
    produced = time.perf_counter() - started
    value_bytes = sum(len(r.value) for r in records)
    print(f"produced {len(events)} responses in {produced:.1f}s", file=sys.stderr)

    # The machine's speed drifts within a run: the bare consumer is timed before and after
    # every other measurement, and each is compared with the mean of the two around it.
    response_topic = prefix + topics.RESPONSE_SUBMITTED
    bare = [await _bare(servers, response_topic, len(events))]
    ceiling_s = await _read(servers, response_topic, len(events), _decode_and_count(layout_of(q)))
    print(f"decode and count, no database: {ceiling_s:.1f}s", file=sys.stderr)
    bare.append(await _bare(servers, response_topic, len(events)))

    in_process_name, in_process_url, in_process_port, in_process_env = runs[0]
    in_process = _start_aggregation(in_process_env)
    try:
        await _until_ready(in_process_port)
        in_process_s, in_process_cpu = await _time_counting(
            in_process.pid, in_process_url, period, len(events)
        )
        print(f"aggregation without workers: {in_process_s:.1f}s", file=sys.stderr)
    finally:
        _stop(in_process)
    await drop_database(infra.database_url, in_process_name)
    bare.append(await _bare(servers, response_topic, len(events)))

    rounds: list[dict[str, Any]] = []
    for number, (name, url, run_port, service_env) in enumerate(runs[1:], start=1):
        last = number == args.rounds
        process = _start_aggregation(service_env)
        try:
            await _until_ready(run_port)
            aggregation_s, cpu_s = await _time_counting(process.pid, url, period, len(events))
            print(
                f"aggregation, round {number}: {aggregation_s:.1f}s ({cpu_s['service']:.1f}s CPU)",
                file=sys.stderr,
            )
            bare.append(await _bare(servers, response_topic, len(events)))
            around = (bare[-2] + bare[-1]) / 2
            rounds.append(
                {
                    "aggregation_s": round(aggregation_s, 2),
                    "bare_s_before_and_after": [round(bare[-2], 2), round(bare[-1], 2)],
                    "aggregation_vs_bare_rate": round(around / aggregation_s, 3),
                    "cpu_s_while_counting": cpu_s,
                }
            )
            if last:  # finalisation, on the last round's service
                finalize_s = await _time_finalisation(servers, prefix, period, per_unit)
        finally:
            _stop(process)
        if not last:
            await drop_database(infra.database_url, name)
    database, database_url = runs[-1][0], runs[-1][1]

    def against_bare(seconds: float, position: int) -> float:
        """The bare time around measurement `position` over `seconds`."""
        return round((bare[position] + bare[position + 1]) / 2 / seconds, 3)

    typical = sorted(rounds, key=lambda r: r["aggregation_vs_bare_rate"])[len(rounds) // 2]
    bare_s = statistics.mean(typical["bare_s_before_and_after"])
    ratios = [r["aggregation_vs_bare_rate"] for r in rounds]
    result: dict[str, Any] = {
        "scale": {
            "responses": len(events),
            "answers_per_response": len(q.items),
            "leaf_units": len(leaves),
            "units_in_tree": len(tree),
            "message_value_bytes_total": value_bytes,
            "batch_max_records": batch,
            "period_opened_consumed_before": not args.cold,
            "full_size": args.responses >= 200_000 and args.units >= 5_000,
            "rounds": args.rounds,
        },
        "generate_and_encode_s": round(generated, 2),
        "produce_s": round(produced, 2),
        "aggregation_vs_bare_rate": statistics.median(ratios),
        "aggregation_vs_bare_rate_range": [min(ratios), max(ratios)],
        "median_round": {
            "bare_consumer_read_and_json_decode_s": round(bare_s, 2),
            "bare_rate_per_s": round(len(events) / bare_s),
            "aggregation_consume_and_count_s": typical["aggregation_s"],
            "aggregation_rate_per_s": round(len(events) / typical["aggregation_s"]),
            "cpu_s_while_counting": typical["cpu_s_while_counting"],
        },
        "rounds": rounds,
        "bare_consumer_s_in_order": [round(seconds, 2) for seconds in bare],
        "aggregation_without_workers_s": round(in_process_s, 2),
        "aggregation_without_workers_vs_bare_rate": against_bare(in_process_s, 1),
        "cpu_s_while_counting_without_workers": in_process_cpu,
        "decode_and_count_without_database_s": round(ceiling_s, 2),
        "decode_and_count_without_database_vs_bare_rate": against_bare(ceiling_s, 0),
        "period_closed_to_results_finalized_s": round(finalize_s, 2),
        "notes": "aggregation timed from its /readyz until every response is counted in "
        "PostgreSQL (one process, one consumer group member, all 12 partitions), having "
        "consumed period-opened in an earlier run unless --cold, once a round on a fresh "
        "database and consumer group; aggregation_vs_bare_rate is the median of the "
        "rounds. The bare consumer reads the same messages and json.loads every value "
        "(stdlib json: slower than the pydantic/jiter parser the envelope validates with, "
        "so not flattering); it is timed before and after every other measurement "
        "(bare_consumer_s_in_order), and each measurement is compared with the mean of "
        "the two around it. "
        "decode_and_count_without_database: the same reader doing the service's "
        "per-record work (envelope, contract validation, counting) and nothing else: "
        "what one process could reach if the database cost nothing. "
        "aggregation_without_workers: the same service with AGGREGATION_COUNT_WORKERS=0 "
        "(decoding and counting in its one process).",
    }
    if not args.skip_ancestors:
        result["ancestor_totals"] = await _ancestors(database_url, opened, events, batch)
    await drop_database(infra.database_url, database)
    out = Path(REPO_ROOT) / "bench-results" / "aggregation.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
