"""The report in a real browser, on the real broker, PostgreSQL and Redis: a leader reads
their unit's report with its charts at stage 1, an employee sees when results come until
stage 2 and the report after; axe-core finds nothing on any report page in nb, nn, en."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Page, expect
from starlette.types import ASGIApp

from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import Databases, Infrastructure, eventually, unique_name
from forbedring_contracts import envelope
from forbedring_publication.app import create_app
from forbedring_publication.settings import PublicationSettings
from services.publication.tests.integration.conftest import (
    FINALIZED_AT,
    PEOPLE,
    STAGE_1_DELAY,
    STAGE_2_DELAY,
    an_org,
)

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
ServeApp = Callable[[ASGIApp], Awaitable[str]]
NOT_YET = {
    "nb": "Resultatene er ikke tilgjengelige ennå",
    "nn": "Resultata er ikkje tilgjengelege enno",
    "en": "The results are not available yet",
}


class Served:
    def __init__(self, base: str, clock: SettableClock, period_id: str) -> None:
        self.base, self.clock, self.period_id = base, clock, period_id

    async def stage(self) -> int:
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as http:
            login = await http.post("/dev-login", json={"employee_id": PEOPLE["hr_admin"]})
            token = login.json()["access_token"]
            reply = await http.get(
                f"/api/v1/periods/{self.period_id}/schedule",
                headers={"Authorization": f"Bearer {token}"},
            )
        if reply.status_code != 200 or not reply.json().get("finalised"):
            return -1
        stage: int = reply.json()["released_stage"]
        return stage

    async def wait_for_stage(self, stage: int) -> None:
        async def reached() -> bool:
            return await self.stage() >= stage

        await eventually(reached, timeout=60)

    def unit(self, unit_id: str, lang: str | None = None) -> str:
        query = f"?lang={lang}" if lang else ""
        return f"{self.base}/periods/{self.period_id}/units/{unit_id}{query}"


@pytest.fixture
async def served(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    serve_app: ServeApp,
) -> Served:
    org = an_org()
    settings = PublicationSettings(
        database_url=await databases.create("publication"),
        **infrastructure.connections(private_topic_prefix),
        consumer_group=unique_name("publication"),
        dev_issuer_enabled=True,
        scheduler_interval_s=0.1,
    )
    clock = SettableClock(FINALIZED_AT - STAGE_1_DELAY)
    base = await serve_app(create_app(settings, clock=clock))
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in [org.opened, org.directory, *org.results, org.finalized]:
            record = envelope.encode(event)
            await producer.send_and_wait(
                private_topic_prefix + record.topic,
                record.value,
                key=record.key,
                headers=record.headers,
                timestamp_ms=record.timestamp_ms,
            )
    finally:
        await producer.stop()
    running = Served(base, clock, org.period_id)
    await running.wait_for_stage(0)
    return running


async def sign_in(page: Page, start: str, person: str) -> None:
    await page.goto(start)
    await page.locator("main a.button").click()
    await page.fill("#employee_id", person)
    await page.keyboard.press("Enter")
    await page.wait_for_url(lambda url: "dev-login" not in url)
    await page.wait_for_load_state()


async def test_leader_at_stage_1_and_employee_at_stage_2(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    employee = await new_page(viewport={"width": 375, "height": 740})
    await sign_in(employee, served.unit("S-PUB", "nb"), PEOPLE["employee"])
    await expect(employee.get_by_role("heading", level=1)).to_have_text(NOT_YET["nb"])
    await expect(employee.locator("dl.schedule")).to_contain_text(".20")  # a date is shown
    await assert_accessible(employee)
    # The list of surveys names the period, with no link to a page no one may read yet.
    await employee.goto(f"{served.base}/?lang=en")
    await expect(employee.locator("main li")).to_contain_text("not released yet")
    assert await employee.locator("main li a").count() == 0

    served.clock.set(FINALIZED_AT + STAGE_1_DELAY)
    await served.wait_for_stage(1)

    leader = await new_page()
    await sign_in(leader, served.unit("S-PUB"), PEOPLE["leader"])
    await leader.goto(f"{served.base}/?lang=en")
    await leader.locator("main li a").click()  # released: now a link to the unit list
    await expect(leader.get_by_role("table")).to_contain_text("Sengepost stor")
    for lang in ("nb", "nn", "en"):
        await leader.goto(served.unit("S-PUB", lang))
        await expect(leader.get_by_role("heading", level=1)).to_have_text("Sengepost stor")
        charts = leader.locator("svg[role=img]")
        assert await charts.count() >= 2, "the factor chart and one per item"
        await expect(charts.first).to_be_visible()
        await assert_accessible(leader)
        await leader.goto(served.unit("S-SMALL", lang))
        await expect(leader.locator("main")).to_contain_text("Klinikk")
        assert await leader.locator("svg").count() == 0
        await assert_accessible(leader)
        await leader.goto(f"{served.base}/periods/{served.period_id}?lang={lang}")
        await expect(leader.get_by_role("table")).to_contain_text("Liten post")
        await assert_accessible(leader)
        await leader.goto(f"{served.base}/periods/{served.period_id}/indicator?lang={lang}")
        await expect(leader.get_by_role("heading", level=1)).to_be_visible()
        await expect(leader.get_by_role("table")).to_be_visible()
        await assert_accessible(leader)
        # The employee still waits for stage 2, in every language.
        await employee.goto(served.unit("S-PUB", lang))
        await expect(employee.get_by_role("heading", level=1)).to_have_text(NOT_YET[lang])
        await assert_accessible(employee)

    served.clock.set(FINALIZED_AT + STAGE_1_DELAY + STAGE_2_DELAY)
    await served.wait_for_stage(2)
    await employee.goto(served.unit("S-PUB", "nb"))
    await expect(employee.get_by_role("heading", level=1)).to_have_text("Sengepost stor")
    await assert_accessible(employee)
    csv: Any = await employee.request.get(served.unit("S-PUB") + "/report.csv")
    assert csv.status == 200
    assert (await csv.text()).startswith("unit_id,unit_name,respondents")


ROLL_UP = {
    "nb": (
        "Samlet for de publiserte underenhetene av Rehabiliteringsklinikken",
        "19 av enhetens 22 svar. De andre 3 svarene teller med i Helse Test HF.",
    ),
    "nn": (
        "Samla for dei publiserte undereiningane av Rehabiliteringsklinikken",
        "19 av dei 22 svara i eininga. Dei andre 3 svara tel med i Helse Test HF.",
    ),
    "en": (
        "Roll-up of Rehabiliteringsklinikken's published sub-units",
        "19 of its 22 respondents. The other 3 count in Helse Test HF.",
    ),
}


async def test_a_hidden_clinic_shows_the_roll_up_of_its_published_sub_units(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    served.clock.set(FINALIZED_AT + STAGE_1_DELAY)
    await served.wait_for_stage(1)
    leader = await new_page(viewport={"width": 1280, "height": 800})
    await sign_in(leader, served.unit("K2"), PEOPLE["leader"])
    for lang, (heading, label) in ROLL_UP.items():
        await leader.goto(served.unit("K2", lang))
        await expect(leader.get_by_role("heading", level=1)).to_have_text(
            "Rehabiliteringsklinikken"
        )
        await expect(leader.get_by_role("heading", level=2, name=heading)).to_be_visible()
        shown = leader.locator("#roll-up-label")
        await expect(shown).to_be_visible()
        await expect(shown).to_contain_text(label)
        # Its sub-units and the unit counting the rest, each a named link; its charts.
        for name in ("Sengepost A", "Sengepost B"):
            await expect(leader.get_by_role("link", name=name, exact=True)).to_be_visible()
        await expect(leader.get_by_role("link", name="Helse Test HF").first).to_be_visible()
        assert await leader.locator("svg[role=img]").count() >= 2
        await assert_accessible(leader)

    # By keyboard, from the roll-up to a sub-unit, which compares with the roll-up as such.
    await leader.goto(served.unit("K2", "en"))
    link = leader.get_by_role("link", name="Sengepost A", exact=True)
    await link.focus()
    await leader.keyboard.press("Enter")
    await leader.wait_for_url(lambda url: "/units/A-PUB" in url)
    await expect(leader.get_by_role("heading", level=1)).to_have_text("Sengepost A")
    await expect(
        leader.get_by_role("columnheader", name="Roll-up of Rehabiliteringsklinikken's")
    ).to_be_visible()
    await assert_accessible(leader)

    phone = await new_page(viewport={"width": 390, "height": 844})
    await sign_in(phone, served.unit("K2", "nb"), PEOPLE["leader"])
    await expect(phone.locator("#roll-up-label")).to_contain_text(ROLL_UP["nb"][1])
    await assert_accessible(phone)
