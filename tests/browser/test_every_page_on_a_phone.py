"""Every page of every service on a 320 px phone, in
nb, nn and en, on the real infrastructure: no page scrolls sideways, chart text is at
least 14 px as drawn, axe-core finds nothing (tests/browser/phone.py). The pages come
from each app's routes; one that is neither visited nor listed with why fails the test.
(Aggregation's and notification's pages: not yet here; their own browser tests check
them at 390 px.)"""

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from forbedring_aggregation import testing as synth
from forbedring_aggregation.app import create_app as create_aggregation
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    issuer_for_tests,
    signed_in_as,
    unique_name,
    verifier_for_tests,
)
from forbedring_survey.testing import HR_ADMIN, people_of
from services.actionplan.tests.org import PEOPLE as PLAN_PEOPLE
from services.aggregation.tests.unit.test_suppression_second_edition import HOSPITAL
from services.notification.tests.integration.conftest import HR_ADMIN as NOTIFICATION_HR
from services.notification.tests.integration.conftest import ISSUER as NOTIFICATION_ISSUER
from services.publication.tests.integration.conftest import (
    FINALIZED_AT,
    STAGE_1_DELAY,
)
from services.publication.tests.integration.conftest import PEOPLE as REPORT_PEOPLE
from tests.browser.conftest import dev_bearer
from tests.browser.phone import (
    Visit,
    anyone,
    as_,
    check_coverage,
    cookie_sign_in,
    dev_sign_in,
    visit_every_page,
)
from tests.browser.test_actionplan_pages import Served as PlansServed
from tests.browser.test_actionplan_pages import served as plans
from tests.browser.test_notification_pages import Served as MailServed
from tests.browser.test_notification_pages import served as mail
from tests.browser.test_publication_report import Served as ReportServed
from tests.browser.test_publication_report import served as report
from tests.browser.test_survey_answering import survey

__all__ = ["mail", "plans", "report", "survey"]  # the fixtures, shared with each service's test

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
SIGNED_OUT = {"/signed-out": anyone("/signed-out")}  # where the sign-out has landed


async def bearer(base: str, person: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        return await dev_bearer(http, person)


async def test_every_survey_page_on_a_phone(
    survey: tuple[str, dict[str, object]], new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    base, organisation = survey
    employee = people_of(organisation, "A")[0]
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        periods = (await http.get("/api/v1/periods", headers=await bearer(base, HR_ADMIN))).json()
    period_id = periods[0]["id"]
    visits: Mapping[str, Sequence[Visit]] = {
        "/": as_(employee, "/"),
        "/answer/{number}": as_(employee, "/answer/1"),
        "/thanks": as_(employee, "/thanks"),
        "/start": as_(employee, "/start") + as_(HR_ADMIN, "/start"),
        "/participation": as_(employee, "/participation") + as_(HR_ADMIN, "/participation"),
        "/admin": as_(HR_ADMIN, "/admin"),
        "/admin/periods/{period_id}": as_(HR_ADMIN, f"/admin/periods/{period_id}"),
        "/admin/periods/{period_id}/confirm/{action}": as_(
            HR_ADMIN, f"/admin/periods/{period_id}/confirm/close"
        ),
        "/admin/audit": as_(HR_ADMIN, "/admin/audit"),
        "/dev-login": anyone("/dev-login"),
        **SIGNED_OUT,
    }
    visits = check_coverage("survey", visits, {})
    views = await visit_every_page(
        base=base,
        visits=visits,
        new_page=new_page,
        sign_in=dev_sign_in(base),
        assert_accessible=assert_accessible,
    )
    assert views >= 30


async def test_every_publication_page_on_a_phone(
    report: ReportServed, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    report.clock.set(FINALIZED_AT + STAGE_1_DELAY)
    await report.wait_for_stage(1)
    period = report.period_id
    leader, hr = REPORT_PEOPLE["leader"], REPORT_PEOPLE["hr_admin"]
    visits: Mapping[str, Sequence[Visit]] = {
        "/": as_(leader, "/"),
        "/periods/{period_id}": as_(leader, f"/periods/{period}"),
        "/periods/{period_id}/indicator": as_(hr, f"/periods/{period}/indicator"),
        # the leader's unit, with its charts; a hidden unit's roll-up; a division's
        "/periods/{period_id}/units/{unit_id}": as_(leader, f"/periods/{period}/units/S-PUB")
        + as_(hr, f"/periods/{period}/units/K2", f"/periods/{period}/units/HF"),
        "/admin/stages": as_(hr, "/admin/stages"),
        "/admin/audit": as_(hr, "/admin/audit"),
        "/dev-login": anyone("/dev-login"),
        **SIGNED_OUT,
    }
    visits = check_coverage("publication", visits, {})
    await visit_every_page(
        base=report.base,
        visits=visits,
        new_page=new_page,
        sign_in=dev_sign_in(report.base),
        assert_accessible=assert_accessible,
    )


async def test_every_actionplan_page_on_a_phone(
    plans: PlansServed, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    period = plans.org.period_id
    leader, hr = PLAN_PEOPLE["leader"], PLAN_PEOPLE["hr_admin"]
    headers = await bearer(plans.base, leader)
    async with httpx.AsyncClient(base_url=plans.base, timeout=10) as http:
        plan = (
            await http.get(f"/api/v1/periods/{period}/units/S-PUB/plan", headers=headers)
        ).json()
        plan_id = plan["plan_id"]
        deadline = (FINALIZED_AT + timedelta(days=400)).date().isoformat()
        created = await http.post(
            f"/api/v1/plans/{plan_id}/measures",
            headers=headers,
            json={"category": "hse", "title": "Faste pauser", "deadline": deadline},
        )
        assert created.status_code == 201, created.text
        measure_id = created.json()["measure_id"]
    visits: Mapping[str, Sequence[Visit]] = {
        "/": as_(leader, "/"),
        "/periods/{period_id}/units/{unit_id}": as_(leader, f"/periods/{period}/units/S-PUB"),
        "/plans/{plan_id}": as_(leader, f"/plans/{plan_id}"),
        "/plans/{plan_id}/measures/new": as_(leader, f"/plans/{plan_id}/measures/new"),
        "/plans/{plan_id}/measures/{measure_id}": as_(
            leader, f"/plans/{plan_id}/measures/{measure_id}"
        ),
        "/plans/{plan_id}/measures/{measure_id}/escalate": as_(
            leader, f"/plans/{plan_id}/measures/{measure_id}/escalate"
        ),
        "/periods/{period_id}/inbox": as_(leader, f"/periods/{period}/inbox"),
        "/periods/{period_id}/indicators": as_(hr, f"/periods/{period}/indicators"),
        "/periods/{period_id}/roll-up": as_(hr, f"/periods/{period}/roll-up"),
        "/admin/targets": as_(hr, "/admin/targets"),
        "/admin/audit": as_(hr, "/admin/audit"),
        "/dev-login": anyone("/dev-login"),
        **SIGNED_OUT,
    }
    not_visited = {
        "/plans/{plan_id}/versions/{number}": "a completed plan's stored version: needs a "
        "complete plan (test_actionplan_pages completes one and reads it at 390 px)",
    }
    visits = check_coverage("actionplan", visits, not_visited)
    await visit_every_page(
        base=plans.base,
        visits=visits,
        new_page=new_page,
        sign_in=dev_sign_in(plans.base),
        assert_accessible=assert_accessible,
    )


async def test_every_notification_page_on_a_phone(
    mail: MailServed, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    visits: Mapping[str, Sequence[Visit]] = {
        "/": as_(NOTIFICATION_HR, "/"),
        "/admin": as_(NOTIFICATION_HR, "/admin"),
        "/admin/preview": as_(NOTIFICATION_HR, "/admin/preview"),
        "/unsubscribe/{token}": anyone(f"/unsubscribe/{mail.unsubscribe_token}"),
        **SIGNED_OUT,
    }
    not_visited = {
        "/admin/preview/{kind}/{language}.html": "an email's own HTML (its inline styles are "
        "the email's), shown framed in /admin/preview, which is visited",
        "/dev-login": "the chassis's development sign-in, visited at the other services; "
        "this notification signs in with the test issuer",
    }
    visits = check_coverage("notification", visits, not_visited)
    await visit_every_page(
        base=mail.base,
        visits=visits,
        new_page=new_page,
        sign_in=cookie_sign_in(mail.base, NOTIFICATION_ISSUER.issue),
        assert_accessible=assert_accessible,
    )


@pytest.fixture
async def counts(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    serve_app: Callable[[Any], Awaitable[str]],
) -> tuple[str, str]:
    """Aggregation with a small hospital's answers counted (as its preview test has it)."""
    settings = AggregationSettings(
        database_url=await databases.create("aggregation"),
        **infrastructure.connections(private_topic_prefix),
        consumer_group=unique_name("aggregation"),
        count_workers=0,  # counts in its own process: starts within serve_app's wait
    )
    base = await serve_app(create_aggregation(settings, verifier=verifier_for_tests()))
    period = unique_name("period")
    questionnaire = synth.questionnaire()
    per_unit = {u: n for u, _, n in HOSPITAL}
    events = synth.responses(random.Random(11), period, questionnaire, per_unit)
    opened = synth.opening(period, [(u, p) for u, p, _ in HOSPITAL], questionnaire)
    servers = infrastructure.kafka_bootstrap_servers
    await synth.produce(servers, private_topic_prefix, synth.encoded(opened))
    await synth.produce(servers, private_topic_prefix, synth.encoded(events))

    async def counted() -> bool:
        hr = signed_in_as(synth.HR_ADMIN)
        async with httpx.AsyncClient(base_url=base, timeout=10, headers=hr) as http:
            reply = await http.get(f"/api/v1/periods/{period}/units/R")
        return bool(reply.status_code == 200 and reply.json()["respondents"] == len(events))

    await eventually(counted, timeout=60)
    return base, period


async def test_every_aggregation_page_on_a_phone(
    counts: tuple[str, str], new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    base, period = counts
    visits: Mapping[str, Sequence[Visit]] = {
        "/periods/{period_id}/suppression": as_(synth.HR_ADMIN, f"/periods/{period}/suppression"),
        **SIGNED_OUT,
    }
    not_visited = {
        "/dev-login": "the chassis's development sign-in, visited at the other services; "
        "this aggregation signs in with the test issuer",
    }
    visits = check_coverage("aggregation", visits, not_visited)
    await visit_every_page(
        base=base,
        visits=visits,
        new_page=new_page,
        sign_in=cookie_sign_in(base, issuer_for_tests().issue),
        assert_accessible=assert_accessible,
    )
