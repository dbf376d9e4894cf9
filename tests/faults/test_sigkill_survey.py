"""SIGKILL of survey in the middle of submissions (a real process), then a restart on the
same database: every answer it acknowledged is counted by aggregation, once; an answer
whose request was cut off by the kill is either kept (sent again, it is refused as
already answered) or not (sent again, accepted), never both and never lost. The outbox
holds what was committed and not yet published; the restarted relay sends it."""

import asyncio
from typing import Any

import httpx

from forbedring_aggregation.app import create_app as create_aggregation
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    in_process,
    signed_in_as,
    unique_name,
    verifier_for_tests,
)
from forbedring_survey.testing import HR_ADMIN, SurveyApi, people_of, small_organisation
from tests.faults.outcomes import record_outcome

UNITS = {"unit-a": 14, "unit-b": 11, "unit-c": 9}
WORKERS = 4
KILL_AFTER = 12  # acknowledged answers before the kill


async def test_survey_killed_mid_submissions_loses_and_doubles_nothing(
    launch_service: Any,
    infrastructure: Infrastructure,
    databases: Databases,
    topic_prefix: str,
) -> None:
    database_url = await databases.create("survey")
    aggregation_settings = AggregationSettings(
        database_url=await databases.create("aggregation"),
        **infrastructure.connections(topic_prefix),
        consumer_group=unique_name("aggregation"),
    )
    organisation = small_organisation(UNITS)
    first = await launch_service("survey", database_url=database_url)
    async with (
        in_process(
            create_aggregation(aggregation_settings, verifier=verifier_for_tests()),
            "http://aggregation",
            headers=signed_in_as(HR_ADMIN),
        ) as aggregation,
        httpx.AsyncClient(base_url=first.url, timeout=60) as http,
    ):
        api = SurveyApi(http)
        period = await api.open_period(organisation, k=3, timeout=90)
        queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
        for unit in UNITS:
            for person in people_of(organisation, unit):
                invitation = (await api.invitations(person))[0]["invitation_id"]
                queue.put_nowait((person, unit, invitation))
        acknowledged: dict[str, str] = {}  # person -> unit
        cut_off: list[tuple[str, str, str]] = []  # in flight when killed, or not yet sent
        killed = asyncio.Event()
        at_kill = 0

        async def worker() -> None:
            nonlocal at_kill
            while not queue.empty():
                entry = queue.get_nowait()
                if killed.is_set():
                    cut_off.append(entry)
                    continue
                person, unit, invitation = entry
                try:
                    reply = await api.submit(person, invitation)
                except httpx.TransportError:
                    cut_off.append(entry)
                    continue
                assert reply.status_code == 202, reply.text
                acknowledged[person] = unit
                if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    at_kill = len(acknowledged)
                    first.process.kill()  # SIGKILL: no shutdown, no last relay pass

        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        assert first.exit_code(timeout=30) == -9
        assert cut_off, "the kill cut some answers off"

        second = await launch_service("survey", database_url=database_url)
        kept_before_kill = 0
        async with httpx.AsyncClient(base_url=second.url, timeout=60) as http_again:
            again = SurveyApi(http_again)
            for person, unit, invitation in cut_off:
                reply = await again.submit(person, invitation)
                if reply.status_code == 409:
                    # Committed before the kill, its answer lost on the way back.
                    assert reply.json()["detail"]["code"] == "already_answered", reply.text
                    kept_before_kill += 1
                else:
                    assert reply.status_code == 202, reply.text
                acknowledged[person] = unit
            await again.close(period)

        expected = {u: sum(1 for v in acknowledged.values() if v == u) for u in UNITS}
        assert expected == UNITS, "every person's answer is in, once"

        async def count(unit: str) -> int:
            reply = await aggregation.get(f"/api/v1/periods/{period}/units/{unit}")
            if reply.status_code in (403, 404):
                return 0
            reply.raise_for_status()
            respondents: int = reply.json()["respondents"]
            return respondents

        async def all_counted() -> bool:
            return all([await count(u) == n for u, n in expected.items()])

        await eventually(all_counted, timeout=180, interval=1.0)
        counted = {u: await count(u) for u in UNITS}
    assert counted == expected, (counted, expected)
    record_outcome(
        "sigkill",
        "survey",
        acknowledged_before_kill=at_kill,
        cut_off_by_kill=len(cut_off),
        committed_but_unacknowledged=kept_before_kill,
        accepted=sum(expected.values()),
        counted=sum(counted.values()),
    )
