"""Counting on the real broker: duplicates once, a SIGKILL mid-stream loses and doubles
nothing, responses before their period-opened are held and scored when it arrives, a
SIGTERM stops the service and its workers cleanly."""

import random
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from forbedring_aggregation import testing as synth
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    signed_in_as,
    uncommitted,
    unique_name,
)
from forbedring_contracts import topics
from services.aggregation.tests.integration.conftest import all_read, assert_counts_match, counted

Q = synth.questionnaire()
TREE = synth.unit_tree(12, fan_out=3)
LEAVES = [u for u, _ in TREE if "-L" in u]


@pytest.mark.parametrize("count_workers", [2, 0], ids=["workers", "in-process"])
async def test_duplicates_are_counted_once_and_early_responses_are_held(
    aggregation: Any, infrastructure: Infrastructure, private_topic_prefix: str, count_workers: int
) -> None:
    rng = random.Random(1)
    period = unique_name("period")
    per_unit = {u: rng.randint(0, 9) for u in LEAVES}
    events = synth.responses(rng, period, Q, per_unit)
    early, late = events[:40], events[40:]
    records = synth.encoded(early)
    # Each early record twice (the same event id), then the period, then the rest and
    # the first 30 of them again.
    opened = synth.encoded(synth.opening(period, TREE, Q))
    late_records = synth.encoded(late)
    async with aggregation(count_workers=count_workers) as running:
        digested_before = await _digested(running.client)
        held_before = await _metric(running.client, "forbedring_aggregation_responses_held_total")
        await synth.produce(
            infrastructure.kafka_bootstrap_servers, private_topic_prefix, records + records
        )

        async def early_counted() -> bool:
            return await counted(running.settings.database_url, period) == len(early)

        await eventually(early_counted)
        held = await _metric(running.client, "forbedring_aggregation_responses_held_total")
        assert held - held_before == len(early), "held until their period comes, once each"
        await synth.produce(
            infrastructure.kafka_bootstrap_servers,
            private_topic_prefix,
            opened + late_records + late_records[:30] + records[:5],
        )

        async def all_counted() -> bool:
            return await counted(running.settings.database_url, period) >= len(events)

        await eventually(all_counted)
        await all_read(infrastructure, private_topic_prefix, running.settings.database_url)
        await assert_counts_match(
            running.settings.database_url, period, Q, synth.ground_truth(Q, events)
        )
        live = (await running.client.get(f"/api/v1/periods/{period}/units")).json()
        by_unit = {u["unit_id"]: u for u in live["units"]}
        assert by_unit["HF"]["respondents"] == len(events)
        assert set(by_unit["HF"]) == {
            "period_id",
            "unit_id",
            "respondents",
            "direct_respondents",
            "eligible",
            "k",
            "reached_k",
        }, "live state carries counts only, no answer data"
        leaf = LEAVES[0]
        assert by_unit[leaf]["reached_k"] == (per_unit[leaf] >= 5)
        preview = await running.client.get(f"/api/v1/periods/{period}/suppression-preview")
        assert "HF" in preview.json()["published"]
        # More once the period is stored (so the workers' to count, when there are
        # workers), with some of the late ones again.
        more = synth.responses(rng, period, Q, dict.fromkeys(LEAVES, 2))
        await synth.produce(
            infrastructure.kafka_bootstrap_servers,
            private_topic_prefix,
            synth.encoded(more) + late_records[:5],
        )

        async def more_counted() -> bool:
            return await counted(running.settings.database_url, period) >= len(events) + len(more)

        await eventually(more_counted)
        await all_read(infrastructure, private_topic_prefix, running.settings.database_url)
        await assert_counts_match(
            running.settings.database_url, period, Q, synth.ground_truth(Q, [*events, *more])
        )
        digested = await _digested(running.client) - digested_before
        if count_workers:
            assert digested > 0, "the workers counted responses (the metric ops watch)"
        else:
            assert digested == 0


async def test_started_on_a_backlog_it_reads_the_periods_first_and_holds_nothing(
    aggregation: Any, infrastructure: Infrastructure, private_topic_prefix: str
) -> None:
    """A service started (or started again) with a period and its responses waiting on
    the topics reads the period first, whatever order its partitions come in: no
    response waits for it in `held_responses`. Stopped mid-stream, as at a deployment,
    it first finishes the batches in flight and commits their offsets, so the next
    start goes on where it stopped."""
    rng = random.Random(4)
    period = unique_name("period")
    events = synth.responses(rng, period, Q, {u: rng.randint(100, 160) for u in LEAVES})
    # The period-opened after all its responses (other partitions, so the order of the
    # topics is what matters), read in batches of 20.
    await synth.produce(
        infrastructure.kafka_bootstrap_servers,
        private_topic_prefix,
        synth.encoded(events) + synth.encoded(synth.opening(period, TREE, Q)),
    )
    held_name = "forbedring_aggregation_responses_held_total"
    async with aggregation(batch_max_records=20) as running:
        settings = running.settings
        held_before = await _metric(running.client, held_name)

        async def a_third_counted() -> bool:
            return await counted(settings.database_url, period) >= len(events) // 3

        await eventually(a_third_counted)
    # Stopped: what it counted is what it committed.
    response_topic = settings.topic(topics.RESPONSE_SUBMITTED)
    servers = infrastructure.kafka_bootstrap_servers
    left = await uncommitted(servers, settings.group_id, response_topic)
    stopped_at = await counted(settings.database_url, period)
    assert stopped_at < len(events), "stopped mid-stream"
    assert len(events) - sum(left.values()) == stopped_at, "offsets committed as applied"

    async with aggregation(
        settings.database_url, settings.consumer_group, batch_max_records=20
    ) as running:

        async def all_counted() -> bool:
            return await counted(settings.database_url, period) >= len(events)

        await eventually(all_counted)
        await assert_counts_match(settings.database_url, period, Q, synth.ground_truth(Q, events))
        held = await _metric(running.client, held_name)
    assert held - held_before == 0, "no response waited for its period"
    assert not await uncommitted(servers, settings.group_id, response_topic)


async def _metric(client: httpx.AsyncClient, name: str) -> float:
    """The sum of a metric's samples (all labels), from the service's /metrics."""
    text = (await client.get("/metrics/")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


async def _digested(client: httpx.AsyncClient) -> float:
    return await _metric(client, "forbedring_events_digested_total")


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux /proc)."""
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def _workers(pids: list[int]) -> list[int]:
    """The counting workers among `pids`: not multiprocessing's resource tracker, which
    exits by itself once its parent is gone (a moment later on a busy machine)."""
    return [
        pid for pid in pids if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def _any_running(pids: list[int]) -> bool:
    """Whether any of `pids` still runs (exited and not yet reaped does not count)."""
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            return True
    return False


async def test_a_consumer_killed_mid_stream_and_restarted_ends_with_the_ground_truth(
    launch: Any, databases: Databases, infrastructure: Infrastructure, private_topic_prefix: str
) -> None:
    rng = random.Random(2)
    period = unique_name("period")
    tree = synth.unit_tree(60, fan_out=4)
    leaves = [u for u, _ in tree if "-L" in u]
    per_unit = {u: 0 for u in leaves}
    for _ in range(20_000):
        per_unit[rng.choice(leaves)] += 1
    events = synth.responses(rng, period, Q, per_unit)
    database_url = await databases.create("aggregation")
    group = unique_name("aggregation")
    first = await launch(
        database_url=database_url,
        group=group,
        extra_env={"AGGREGATION_BATCH_MAX_RECORDS": "100", "AGGREGATION_SLICE_RECORDS": "30"},
    )
    await synth.produce(
        infrastructure.kafka_bootstrap_servers,
        private_topic_prefix,
        synth.encoded([*synth.opening(period, tree, Q), *events]),
    )

    async def under_way() -> bool:
        return await counted(database_url, period) >= 2_000

    await eventually(under_way, timeout=60, interval=0.02)
    workers = _children(first.process.pid)
    assert workers, "the service counts in worker processes"
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait(timeout=10) == -signal.SIGKILL

    async def workers_gone() -> bool:
        return not _any_running(workers)

    await eventually(workers_gone, timeout=10)
    at_kill = await counted(database_url, period)
    assert at_kill < len(events), "the consumer had finished before it was killed"

    second = await launch(database_url=database_url, group=group)

    async def all_counted() -> bool:
        return await counted(database_url, period) >= len(events)

    await eventually(all_counted, timeout=120)
    await all_read(infrastructure, private_topic_prefix, database_url)
    await assert_counts_match(database_url, period, Q, synth.ground_truth(Q, events))
    hr = signed_in_as(synth.HR_ADMIN)
    async with httpx.AsyncClient(base_url=second.url, headers=hr) as client:
        root = (await client.get(f"/api/v1/periods/{period}/units/HF")).json()
    assert root["respondents"] == len(events)


async def test_stopped_with_sigterm_it_exits_with_its_workers_and_leaks_nothing(
    launch: Any,
    databases: Databases,
    infrastructure: Infrastructure,
    private_topic_prefix: str,
    tmp_path: Path,
) -> None:
    """As at every deployment: the service waits for its counting workers to exit, so
    none outlives it and the resource tracker finds nothing left to warn about."""
    rng = random.Random(5)
    period = unique_name("period")
    events = synth.responses(rng, period, Q, {u: 50 for u in LEAVES})
    database_url = await databases.create("aggregation")
    errors = tmp_path / "stderr"
    service = await launch(
        database_url=database_url, group=unique_name("aggregation"), stderr=errors
    )
    children = _children(service.process.pid)
    workers = _workers(children)
    assert workers, "the service counts in worker processes"
    await synth.produce(
        infrastructure.kafka_bootstrap_servers,
        private_topic_prefix,
        synth.encoded([*synth.opening(period, TREE, Q), *events]),
    )

    async def all_counted() -> bool:
        return await counted(database_url, period) >= len(events)

    await eventually(all_counted, timeout=60)
    service.process.send_signal(signal.SIGTERM)
    # uvicorn finishes its shutdown, then re-raises SIGTERM so the exit status tells why.
    assert service.process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert not _any_running(workers), "the service waited for its workers"

    async def tracker_gone() -> bool:
        return not _any_running(children)

    await eventually(tracker_gone, timeout=10)
    logged = errors.read_text(errors="replace")
    assert "leaked" not in logged, logged
    assert "Traceback" not in logged, logged
