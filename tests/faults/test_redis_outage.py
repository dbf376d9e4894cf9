"""Redis stopped (the private server): publication's reports are still served, computed
for each request instead of cached, and the same as cached; the rate limits are not
applied (they fail open, as docs/security.md says, route by route: answering in survey,
sign-in at every service), where with Redis up the same requests are refused; once
Redis is back the report is cached again."""

import asyncio
from datetime import timedelta

import httpx

from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import (
    Databases,
    event_producer,
    eventually,
    in_process,
    unique_name,
    verifier_for_tests,
)
from forbedring_publication.app import create_app as create_publication
from forbedring_publication.cache import ReportCache
from forbedring_publication.scheduler import Scheduler
from forbedring_publication.settings import PublicationSettings
from forbedring_survey.app import create_app as create_survey
from forbedring_survey.settings import SurveySettings
from forbedring_survey.testing import SurveyApi, people_of, small_organisation
from services.publication.tests.integration.conftest import (
    FINALIZED_AT,
    STAGE_1_DELAY,
    an_org,
    token,
)
from tests.conftest import SURVEY_TEST_SETTINGS
from tests.faults.conftest import PrivateSet
from tests.faults.outcomes import record_outcome

SIGNIN_LIMIT = 3  # a minute, per address: low, so a few requests pass it


async def _statuses(client: httpx.AsyncClient, path: str, times: int) -> list[int]:
    return [(await client.get(path)).status_code for _ in range(times)]


async def test_reports_are_served_uncached_and_rate_limits_fail_open_while_redis_is_down(
    private_set: PrivateSet, private_databases: Databases, private_topics: str
) -> None:
    infrastructure = private_set.infrastructure
    org = an_org()
    publication_settings = PublicationSettings(
        database_url=await private_databases.create("publication"),
        **infrastructure.connections(private_topics),
        consumer_group=unique_name("publication"),
        scheduler_enabled=False,
        outbox_poll_interval_s=0.05,
        signin_rate_limit_per_min=SIGNIN_LIMIT,
    )
    survey_settings = SurveySettings(
        database_url=await private_databases.create("survey"),
        **infrastructure.connections(private_topics),
        **{**SURVEY_TEST_SETTINGS, "submission_rate_limit_per_s": 1},  # type: ignore[arg-type]
    )
    clock = SettableClock(FINALIZED_AT - timedelta(hours=1))
    publication_app = create_publication(
        publication_settings, clock=clock, verifier=verifier_for_tests()
    )
    cache: ReportCache = publication_app.state.report_cache
    scheduler: Scheduler = publication_app.state.scheduler
    report = f"/api/v1/periods/{org.period_id}/units/S-PUB/results?lang=en"
    async with (
        in_process(publication_app, "http://publication") as publication,
        in_process(create_survey(survey_settings), "http://survey") as survey,
        event_producer(infrastructure, private_topics) as send,
    ):
        await send([org.opened, org.directory, *org.results, org.finalized])

        async def finalised() -> bool:
            reply = await publication.get(
                f"/api/v1/periods/{org.period_id}/schedule", headers=token("hr_admin")
            )
            return reply.status_code == 200 and reply.json().get("finalised") is True

        await eventually(finalised, timeout=60)
        clock.set(org.finalized.finalized_at + STAGE_1_DELAY)
        await scheduler.tick()
        key = cache.key(period_id=org.period_id, unit_id="S-PUB", stage=1, language="en")
        cached = await publication.get(report, headers=token("leader"))
        assert cached.status_code == 200, cached.text
        assert cache.computations[key] == 1

        # Survey: an open period and people signed in and invited while Redis is up.
        api = SurveyApi(survey)
        organisation = small_organisation({"unit-a": 6})
        await api.open_period(organisation, k=3, timeout=60)
        people = people_of(organisation, "unit-a")
        invitations = {p: (await api.invitations(p))[0]["invitation_id"] for p in people}
        # With Redis up the limits hold: sign-in refused past its limit, answers past 1/s.
        up_signin = await _statuses(publication, "/signin", SIGNIN_LIMIT + 2)
        assert 429 in up_signin, up_signin
        up_answers = await asyncio.gather(*(api.submit(p, invitations[p]) for p in people[:3]))
        assert 429 in {r.status_code for r in up_answers}, [r.status_code for r in up_answers]
        answered = {p for p, r in zip(people[:3], up_answers, strict=True) if r.status_code == 202}

        await asyncio.to_thread(private_set.stop, "redis")
        try:
            uncached = [await publication.get(report, headers=token("leader")) for _ in range(3)]
            computed_down = cache.computations[key] - 1
            down_signin = await _statuses(publication, "/signin", SIGNIN_LIMIT + 2)
            rest = [p for p in people if p not in answered]
            down_answers = await asyncio.gather(*(api.submit(p, invitations[p]) for p in rest))
        finally:
            await asyncio.to_thread(private_set.start, "redis")
        assert [r.status_code for r in uncached] == [200, 200, 200], [r.text for r in uncached]
        assert {r.content for r in uncached} == {cached.content}, "the same report, uncached"
        assert computed_down == 3, "computed for each request while Redis was down"
        assert 429 not in down_signin, down_signin
        assert all(s < 500 for s in down_signin), down_signin
        assert [r.status_code for r in down_answers] == [202] * len(rest), [
            (r.status_code, r.text[:200]) for r in down_answers
        ]

        # Redis back: cached again (computed once more, then served from Redis).
        async def cached_again() -> bool:
            before = cache.computations[key]
            first = await publication.get(report, headers=token("leader"))
            second = await publication.get(report, headers=token("leader"))
            return (
                first.status_code == second.status_code == 200
                and cache.computations[key] - before <= 1
            )

        await eventually(cached_again, timeout=60, interval=1.0)

    record_outcome(
        "redis-stopped",
        "publication+survey",
        report_while_down=[r.status_code for r in uncached],
        report_computed_per_request_while_down=computed_down,
        signin_while_up=up_signin,
        signin_while_down=down_signin,
        answers_while_up=[r.status_code for r in up_answers],
        answers_while_down=[r.status_code for r in down_answers],
        rate_limits={
            "survey POST /api/v1/responses and the answer form": "not applied (fail open)",
            "every service /signin, /signin/callback, /dev-login form": "not applied (fail open)",
        },
    )
