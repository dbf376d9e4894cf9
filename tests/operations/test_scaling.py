"""Scaling out on the real broker, as KEDA would: three aggregation instances and two survey
instances (real processes) share the work while simulated employees answer over HTTP.
One aggregation instance is killed with SIGKILL mid-stream and another is added; the
12 partitions of response-submitted move between them. Nothing is lost or counted twice:
the final snapshot equals, byte for byte, the one a single instance makes from the same
log, and every unit's count equals what survey accepted.

The rebalance and catch-up times are figures, not assertions: written to
bench-results/scaling.json.
"""

import asyncio
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from forbedring_chassis.testing import (
    REPO_ROOT,
    Databases,
    Infrastructure,
    eventually,
    plain_url,
    unique_name,
)
from forbedring_chassis.topic_admin import load_topics
from forbedring_contracts import topics
from forbedring_survey.testing import SurveyApi, people_of, small_organisation, valid_answers
from tests.conftest import ServiceProcess
from tests.operations.scaling import GroupWatch

UNITS = 36
PEOPLE_PER_UNIT = 10
SUBMITTERS = 6  # employees answering at the same time
RESULTS = REPO_ROOT / "bench-results" / "scaling.json"
# Counting in the consumer's own process: six service processes share two cores here.
AGGREGATION_ENV = {"AGGREGATION_COUNT_WORKERS": "0", "AGGREGATION_FINALISE_INTERVAL_S": "0.5"}


async def rows(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def snapshot_of(database_url: str, period_id: str) -> tuple[str, list[tuple[str, bytes]]]:
    (snapshot,) = await rows(
        database_url, "SELECT checksum FROM snapshots WHERE period_id = $1", period_id
    )
    units = await rows(
        database_url,
        "SELECT unit_id, value FROM snapshot_units WHERE period_id = $1 ORDER BY unit_id",
        period_id,
    )
    return str(snapshot["checksum"]), [(r["unit_id"], bytes(r["value"])) for r in units]


async def finalised(database_url: str, period_id: str) -> bool:
    try:
        found = await rows(database_url, "SELECT 1 FROM snapshots WHERE period_id = $1", period_id)
    except asyncpg.UndefinedTableError:
        return False
    return bool(found)


async def test_three_aggregations_survive_a_kill_and_a_new_member(
    launch_service: Any,
    databases: Databases,
    infrastructure: Infrastructure,
    private_topic_prefix: str,
) -> None:
    servers = infrastructure.kafka_bootstrap_servers
    topic = private_topic_prefix + topics.RESPONSE_SUBMITTED
    partitions = {s.name: s.partitions for s in load_topics(REPO_ROOT / "deploy" / "topics.yaml")}
    assert partitions[topics.RESPONSE_SUBMITTED] == 12

    # Two survey replicas on one database (service processes share the test issuer's key).
    survey_db = await databases.create("survey")
    surveys = [
        await launch_service("survey", database_url=survey_db, topics=private_topic_prefix)
        for _ in range(2)
    ]
    # Three aggregation replicas on one database, in one consumer group.
    aggregation_db = await databases.create("aggregation")
    group = unique_name("aggregation-scaling")

    async def aggregation(database_url: str, consumer_group: str) -> ServiceProcess:
        handle: ServiceProcess = await launch_service(
            "aggregation",
            database_url=database_url,
            consumer_group=consumer_group,
            topics=private_topic_prefix,
            extra_env=AGGREGATION_ENV,
        )
        return handle

    aggregations = [await aggregation(aggregation_db, group) for _ in range(3)]

    organisation = small_organisation({f"unit-{u:02d}": PEOPLE_PER_UNIT for u in range(UNITS)})
    people = [
        person for unit in range(UNITS) for person in people_of(organisation, f"unit-{unit:02d}")
    ]
    random.Random(18).shuffle(people)
    rng = random.Random(1818)
    answers = {person: valid_answers(value=rng.randint(1, 5)) for person in people}

    figures: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(base_url=surveys[0].url, timeout=30) as first,
        httpx.AsyncClient(base_url=surveys[1].url, timeout=30) as second,
        GroupWatch(servers, group, topic) as watch,
    ):
        apis = [SurveyApi(first), SurveyApi(second)]
        period = await apis[0].open_period(organisation, k=5)
        await eventually(lambda: watch_owns(watch, members=3), timeout=60)

        accepted: Counter[str] = Counter()
        queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        for index, person in enumerate(people):
            queue.put_nowait((index, person))
        started = time.perf_counter()

        async def submitter() -> None:
            while not queue.empty():
                index, person = queue.get_nowait()
                api = apis[index % 2]  # half the employees reach each survey replica
                await api.answer(person, answers[person])
                accepted[person.rsplit("-", 1)[0].removeprefix("e-")] += 1

        submitting = [asyncio.create_task(submitter()) for _ in range(SUBMITTERS)]

        # Mid-stream: a third answered and the group has committed some of it.
        async def a_third_counted() -> bool:
            return sum(accepted.values()) >= len(people) // 3 and bool(
                sum((await watch.committed()).values())
            )

        await eventually(a_third_counted, timeout=120, interval=0.05)
        victim = aggregations.pop(1)
        victim.process.kill()  # SIGKILL: no drain, no commit, no leaving the group
        killed_at = time.perf_counter()
        ends_at_kill = await watch.end_offsets()
        figures["answered_before_kill"] = sum(accepted.values())
        aggregations.append(await aggregation(aggregation_db, group))
        figures["new_instance_ready_s"] = round(time.perf_counter() - killed_at, 2)

        await eventually(lambda: watch_owns(watch, members=3), timeout=90, interval=0.1)
        figures["kill_to_rebalanced_s"] = round(time.perf_counter() - killed_at, 2)
        await eventually(lambda: watch.reached(ends_at_kill), timeout=90, interval=0.1)
        figures["kill_to_caught_up_s"] = round(time.perf_counter() - killed_at, 2)

        await asyncio.gather(*submitting)
        answered_at = time.perf_counter()
        figures["answers"] = sum(accepted.values())
        figures["answers_per_s"] = round(len(people) / (answered_at - started), 1)
        assert sum(accepted.values()) == len(people)

        await apis[1].close(period)
        await eventually(lambda: finalised(aggregation_db, period), timeout=120, interval=0.2)
        figures["last_answer_to_final_snapshot_s"] = round(time.perf_counter() - answered_at, 2)
        ends = await watch.end_offsets()
        assert await watch.reached(ends)  # everything on the topic is committed

    # Every unit counted exactly what survey accepted.
    counted = await rows(
        aggregation_db,
        "SELECT unit_id, respondents FROM unit_counts WHERE period_id = $1",
        period,
    )
    assert {r["unit_id"]: r["respondents"] for r in counted} == dict(accepted)

    # A single instance reading the same log makes the same snapshot, byte for byte.
    single_db = await databases.create("aggregation")
    single = await aggregation(single_db, unique_name("aggregation-single"))
    await eventually(lambda: finalised(single_db, period), timeout=120, interval=0.2)
    scaled_checksum, scaled_units = await snapshot_of(aggregation_db, period)
    single_checksum, single_units = await snapshot_of(single_db, period)
    assert scaled_units == single_units
    assert scaled_checksum == single_checksum
    assert len(scaled_units) == UNITS + 1  # the units and the root
    single.stop()

    figures.update(
        {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "partitions": partitions[topics.RESPONSE_SUBMITTED],
            "aggregation_instances": "3, one killed with SIGKILL and one added",
            "survey_instances": 2,
            "units": UNITS,
            "what": "kill_to_rebalanced_s: SIGKILL until the group is Stable with 3 live "
            "members owning all 12 partitions (the dead member is dropped at the session "
            "timeout); kill_to_caught_up_s: until the group has committed every record on "
            "the topic at the moment of the kill; count_workers 0; 2 cores",
        }
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


async def watch_owns(watch: GroupWatch, *, members: int) -> bool:
    return (await watch.state()).owns_all(12, members)
