"""Every page of the survey, publication and actionplan services on a 320 px phone, in
nb, nn and en, on the real infrastructure: no page scrolls sideways, chart text is at
least 14 px as drawn, axe-core finds nothing (tests/browser/phone.py). The pages come
from each app's routes; one that is neither visited nor listed with why fails the test.
(Aggregation's and notification's pages: not yet here; their own browser tests check
them at 390 px.)"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta

import httpx
from playwright.async_api import Page

from forbedring_survey.testing import HR_ADMIN, people_of
from services.actionplan.tests.org import PEOPLE as PLAN_PEOPLE
from services.publication.tests.integration.conftest import (
    FINALIZED_AT,
    STAGE_1_DELAY,
)
from services.publication.tests.integration.conftest import PEOPLE as REPORT_PEOPLE
from tests.browser.phone import Visit, anyone, as_, check_coverage, dev_sign_in, visit_every_page
from tests.browser.test_actionplan_pages import Served as PlansServed
from tests.browser.test_actionplan_pages import served as plans
from tests.browser.test_publication_report import Served as ReportServed
from tests.browser.test_publication_report import served as report
from tests.browser.test_survey_answering import survey

__all__ = ["plans", "report", "survey"]  # the fixtures, shared with each service's test

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
SIGNED_OUT = {"/signed-out": anyone("/signed-out")}  # where the sign-out has landed


async def bearer(base: str, person: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        login = await http.post("/dev-login", json={"employee_id": person})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


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
