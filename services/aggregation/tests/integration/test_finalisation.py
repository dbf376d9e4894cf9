"""Finalisation on the real broker: it waits for period-closed's totals, emits exactly one
set of events, suppressed units' events carry no numbers, and two instances in one
consumer group arrive at the same snapshot as one."""

import asyncio
import json
import random
from typing import Any

import pytest

from forbedring_aggregation import finalisation
from forbedring_aggregation import testing as synth
from forbedring_aggregation.domain.suppression import SuppressionMethod
from forbedring_aggregation.rebuild import rebuild
from forbedring_chassis import wire
from forbedring_chassis.testing import Databases, Infrastructure, eventually, unique_name
from forbedring_contracts import topics
from forbedring_contracts.events import results_checksum
from services.aggregation.tests.integration.conftest import (
    all_read,
    bodies,
    read_topic,
    snapshot_rows,
    sql,
)

Q = synth.questionnaire()


def a_period(rng: random.Random, leaves: int, responses: int) -> tuple[str, Any, dict[str, int]]:
    period = unique_name("period")
    tree = synth.unit_tree(leaves, fan_out=3)
    leaf_ids = [u for u, _ in tree if "-L" in u]
    per_unit = dict.fromkeys(leaf_ids, 0)
    for _ in range(responses):
        # skewed, so that some units fall below k and need suppressing
        per_unit[leaf_ids[min(int(rng.expovariate(0.25)), len(leaf_ids) - 1)]] += 1
    return period, tree, per_unit


def whole_period(
    rng: random.Random, period: str, tree: Any, per_unit: dict[str, int]
) -> list[wire.Record]:
    """Every record of a period: its opening, its responses (`per_unit`), its close."""
    return synth.encoded(
        [
            *synth.opening(period, tree, Q),
            *synth.responses(rng, period, Q, per_unit),
            synth.period_closed(period, per_unit),
        ]
    )


async def test_finalise_waits_for_the_totals_and_emits_one_set_of_events(
    aggregation: Any, infrastructure: Infrastructure, private_topic_prefix: str
) -> None:
    rng = random.Random(3)
    period, tree, per_unit = a_period(rng, 12, 120)
    events = synth.responses(rng, period, Q, per_unit)
    servers = infrastructure.kafka_bootstrap_servers
    closed = synth.encoded([synth.period_closed(period, per_unit)])
    async with aggregation() as running:
        # period-closed overtakes the last ten responses (they are on other partitions)
        await synth.produce(
            servers,
            private_topic_prefix,
            synth.encoded([*synth.opening(period, tree, Q), *events[:-10]]) + closed,
        )
        await all_read(infrastructure, private_topic_prefix, running.settings.database_url)
        waiting = await running.client.get(f"/api/v1/periods/{period}/snapshot")
        assert waiting.status_code == 404, "finalised before every response was counted"

        await synth.produce(servers, private_topic_prefix, synth.encoded(events[-10:]))

        async def finalised() -> bool:
            reply = await running.client.get(f"/api/v1/periods/{period}/snapshot")
            return bool(reply.status_code == 200)

        await eventually(finalised, timeout=30)
        status = (await running.client.get(f"/api/v1/periods/{period}/snapshot")).json()
        # a repeated period-closed (a new event) and a redelivered one change nothing
        again = synth.encoded([synth.period_closed(period, per_unit)])
        await synth.produce(servers, private_topic_prefix, again + closed)
        await all_read(infrastructure, private_topic_prefix, running.settings.database_url)
        assert (await running.client.get(f"/api/v1/periods/{period}/snapshot")).json() == status
        settings = running.settings

    unit_results = [
        r
        for r in await read_topic(infrastructure, private_topic_prefix + topics.UNIT_RESULTS)
        if json.loads(r.value)["period_id"] == period
    ]
    finalized = bodies(
        await read_topic(infrastructure, private_topic_prefix + topics.RESULTS_FINALIZED), period
    )
    assert len(finalized) == 1
    assert len(unit_results) == len(tree) == finalized[0]["unit_count"]
    values = [(json.loads(r.value)["unit_id"], r.value) for r in unit_results]
    assert results_checksum(values) == finalized[0]["checksum"] == status["checksum"]

    results = {b["unit_id"]: b for b in (json.loads(v) for _, v in values)}
    published = {u for u, b in results.items() if b["published"]}
    suppressed = {u: b for u, b in results.items() if not b["published"]}
    assert suppressed, "the test period should suppress some units"
    assert "HF" in published
    for unit, body in suppressed.items():
        assert set(body) - {"roll_up"} == {
            "published",
            "period_id",
            "unit_id",
            "reason",
            "included_in",
        }
        assert body["included_in"] in published
        assert body["reason"] in {
            "too_few_respondents",
            "protects_smaller_unit",
            "direct_answers_too_few",
        }
        numbers = [v for v in body.values() if type(v) in (int, float)]
        assert not numbers, unit
        if "roll_up" in body:  # only sums of the published cells it names
            assert_roll_up_sums_published_cells(body["roll_up"], results)
    assert finalized[0]["suppression_method"] == "optimal_v2"
    for unit in published:
        assert results[unit]["respondents"] >= 5
    root = results["HF"]
    assert root["respondents"] == sum(per_unit.values())

    # Rebuilt from the log into fresh counters: the same snapshot, byte for byte.
    rebuilt = await rebuild(settings, period)
    assert rebuilt.identical is True
    assert rebuilt.values == await snapshot_rows(settings.database_url, period)
    assert rebuilt.responses == len(events)
    assert rebuilt.duplicates == 0
    assert {i["indicator_id"] for i in root["indicators"]} == {
        "good_safety_climate_agree",
        "good_safety_climate_saq",
    }


def assert_roll_up_sums_published_cells(
    roll_up: dict[str, Any], results: dict[str, dict[str, Any]]
) -> None:
    cells = [results[z] for z in roll_up["sub_units"]]
    assert all(c["published"] for c in cells)
    assert roll_up["respondents"] == sum(c["respondents"] for c in cells)
    for item in roll_up["items"]:
        parts = [next(i for i in c["items"] if i["item_id"] == item["item_id"]) for c in cells]
        if item["kind"] == "scale":
            for option, count in item["distribution"].items():
                assert count == sum(p["distribution"][option] for p in parts)
        else:
            assert (item["yes"], item["no"]) == (
                sum(p["yes"] for p in parts),
                sum(p["no"] for p in parts),
            )
    for factor in roll_up["factors"]:
        parts = [
            next(f for f in c["factors"] if f["factor_id"] == factor["factor_id"]) for c in cells
        ]
        assert factor["scored"] == sum(p["scored"] for p in parts)


async def test_a_period_finalised_by_the_first_edition_is_rebuilt_byte_for_byte(
    aggregation: Any,
    infrastructure: Infrastructure,
    private_topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A snapshot records its rule; the rebuild uses it, so a period closed before the
    second edition still reproduces its stored bytes (and no roll-ups appear in it)."""
    monkeypatch.setattr(finalisation, "CURRENT_METHOD", SuppressionMethod.GREEDY_V1)
    rng = random.Random(5)
    period, tree, per_unit = a_period(rng, 12, 120)
    records = whole_period(rng, period, tree, per_unit)
    async with aggregation() as running:
        await synth.produce(infrastructure.kafka_bootstrap_servers, private_topic_prefix, records)

        async def finalised() -> bool:
            reply = await running.client.get(f"/api/v1/periods/{period}/snapshot")
            return bool(reply.status_code == 200)

        await eventually(finalised, timeout=30)
        settings = running.settings
    method = await sql(
        settings.database_url,
        "SELECT suppression_method FROM snapshots WHERE period_id = $1",
        period,
    )
    assert method[0]["suppression_method"] == "greedy_v1"
    stored = await snapshot_rows(settings.database_url, period)
    assert not any(b"roll_up" in value for _, value in stored)

    monkeypatch.setattr(finalisation, "CURRENT_METHOD", SuppressionMethod.OPTIMAL_V2)
    rebuilt = await rebuild(settings, period)
    assert rebuilt.identical is True
    assert rebuilt.values == stored


async def test_two_instances_in_one_group_give_the_same_snapshot_as_one(
    aggregation: Any,
    databases: Databases,
    infrastructure: Infrastructure,
    private_topic_prefix: str,
) -> None:
    rng = random.Random(4)
    period, tree, per_unit = a_period(rng, 40, 3_000)
    records = whole_period(rng, period, tree, per_unit)
    servers = infrastructure.kafka_bootstrap_servers
    alone_db = await databases.create("aggregation")
    pair_db = await databases.create("aggregation")
    pair_group = unique_name("aggregation")

    async with (
        aggregation(database_url=alone_db) as alone,
        aggregation(database_url=pair_db, group=pair_group) as first,
        aggregation(database_url=pair_db, group=pair_group) as second,
    ):
        await synth.produce(servers, private_topic_prefix, records)

        async def both_finalised() -> bool:
            replies = [
                await c.client.get(f"/api/v1/periods/{period}/snapshot")
                for c in (alone, first, second)
            ]
            return all(r.status_code == 200 for r in replies)

        await eventually(both_finalised, timeout=90)
        await asyncio.sleep(2.0)

    alone_rows = await snapshot_rows(alone_db, period)
    pair_rows = await snapshot_rows(pair_db, period)
    assert len(alone_rows) == len(tree)
    assert pair_rows == alone_rows, "byte for byte the same unit results"
    finalized = bodies(
        await read_topic(infrastructure, private_topic_prefix + topics.RESULTS_FINALIZED), period
    )
    # one results-finalized from the single instance, one from the pair: not two from it
    assert len(finalized) == 2
    assert finalized[0]["checksum"] == finalized[1]["checksum"] == results_checksum(alone_rows)
    unit_results = bodies(
        await read_topic(infrastructure, private_topic_prefix + topics.UNIT_RESULTS), period
    )
    assert len(unit_results) == 2 * len(tree)
