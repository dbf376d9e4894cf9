"""The action plan pages in a real browser, on the real broker and PostgreSQL, in bokmål,
nynorsk and English: a leader records the staff discussion and writes a plan with two
measures from the suggested focus areas; escalates one, the parent's leader accepts it
in the inbox, and the leader completes the plan; an employee of the unit reads the plan
on a phone, nothing cut off at the right. axe-core finds nothing on any page visited."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Page, expect
from starlette.types import ASGIApp

from forbedring_actionplan.app import create_app
from forbedring_actionplan.settings import ActionplanSettings
from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import Databases, Infrastructure, eventually, unique_name
from forbedring_contracts import envelope
from services.actionplan.tests.org import HIDDEN_FIGURES, PEOPLE, RELEASED_AT, Org, an_org
from tests.browser.conftest import dev_bearer, sign_in_from

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
ServeApp = Callable[[ASGIApp], Awaitable[str]]

LANGS = ("nb", "nn", "en")
PHONE = {"width": 390, "height": 844}
TODAY = (RELEASED_AT + timedelta(days=8)).date()
TEXT = {
    "title": {
        "nb": "Handlingsplan for Sengepost stor",
        "nn": "Handlingsplan for Sengepost stor",
        "en": "Action plan of Sengepost stor",
    },
    "quality": {
        "nb": "Planen har ønsket kvalitet.",
        "nn": "Planen har ønskt kvalitet.",
        "en": "The plan is of the desired quality.",
    },
    "recorded": {
        "nb": "Møtet er registrert.",
        "nn": "Møtet er registrert.",
        "en": "The meeting was recorded.",
    },
    "added": {
        "nb": "Tiltaket er lagt til.",
        "nn": "Tiltaket er lagt til.",
        "en": "The measure was added.",
    },
    "pending": {
        "nb": "Løftet til Klinikk, venter på avgjørelse",
        "nn": "Løfta til Klinikk, ventar på avgjerd",
        "en": "Lifted to Klinikk, waiting for a decision",
    },
    "accepted": {
        "nb": "Tatt inn i planen til Klinikk",
        "nn": "Teke inn i planen til Klinikk",
        "en": "Taken into the plan of Klinikk",
    },
    "taken_in": {
        "nb": "Tiltaket er tatt inn i planen.",
        "nn": "Tiltaket er teke inn i planen.",
        "en": "The measure was taken into the plan.",
    },
    "completed": {
        "nb": "Planen er markert som ferdig, og en versjon er lagret.",
        "nn": "Planen er markert som ferdig, og ein versjon er lagra.",
        "en": "The plan was marked complete and a version was stored.",
    },
    "deadline_past": {
        "nb": "Fristen er passert",
        "nn": "Fristen er passert",
        "en": "The deadline is in the past",
    },
}


@dataclass
class Served:
    base: str
    org: Org

    def unit(self, lang: str, unit_id: str) -> str:
        return f"{self.base}/periods/{self.org.period_id}/units/{unit_id}?lang={lang}"

    def inbox(self, lang: str) -> str:
        return f"{self.base}/periods/{self.org.period_id}/inbox?lang={lang}"


@pytest.fixture
async def served(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    serve_app: ServeApp,
) -> Served:
    settings = ActionplanSettings(
        database_url=await databases.create("actionplan"),
        **infrastructure.connections(private_topic_prefix),
        consumer_group=unique_name("actionplan"),
        dev_issuer_enabled=True,
        scheduler_enabled=False,
        outbox_poll_interval_s=0.05,
    )
    base = await serve_app(
        create_app(settings, clock=SettableClock(RELEASED_AT + timedelta(days=8)))
    )
    org = an_org()
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in [*org.events(), org.stage_2]:
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
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        bearer = await dev_bearer(http, PEOPLE["employee"])

        async def readable() -> bool:
            # The employee reads the plan once stage 2 has reached the service.
            path = f"/api/v1/periods/{org.period_id}/units/S-PUB/plan"
            return (await http.get(path, headers=bearer)).status_code == 200

        await eventually(readable, timeout=60)
    return Served(base, org)


async def sign_in(page: Page, start: str, person: str, check: AssertAccessible) -> None:
    """From a page, through the sign-in page (checked too) and the development sign-in."""
    await sign_in_from(page, start, person, check=check)


async def no_hidden_figure(page: Page) -> None:
    shown = await page.content()
    assert [n for n in HIDDEN_FIGURES if n in shown] == [], page.url


async def add_measure(page: Page, item: str, check: AssertAccessible) -> str:
    """From the plan page: the focus area's "add a measure", its factor's first
    suggestion, then the rest of the form. Returns the measure's title."""
    await page.locator(f"#area-{item} a.button").click()
    await expect(page.locator(".suggestions a").first).to_be_visible()
    await check(page)
    await page.locator(".suggestions a").first.click()
    title = await page.input_value("#title")
    assert title, "the suggestion fills in the measure"
    assert await page.input_value("#linked_id") == item
    await page.select_option("#responsible_person_id", PEOPLE["leader"])
    await page.fill("#desired_effect", "Fewer incidents; everyone speaks up.")
    # A deadline in the past: refused, the summary takes the focus, the field says why.
    await page.fill("#deadline", (TODAY - timedelta(days=1)).isoformat())
    await page.locator("main form button[type=submit]").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_be_visible()
    assert await summary.evaluate("e => e === document.activeElement"), "focus on the summary"
    await expect(page.locator("#deadline")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#deadline-error")).to_be_visible()
    await check(page)
    await page.fill("#deadline", (TODAY + timedelta(days=60)).isoformat())
    await page.locator("main form button[type=submit]").click()
    await page.wait_for_url(lambda url: "saved=added" in url)
    return title


@pytest.mark.parametrize("lang", LANGS)
async def test_a_leader_writes_escalates_and_completes_and_an_employee_reads_on_a_phone(
    lang: str, served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    leader = await new_page(viewport={"width": 1280, "height": 800})
    await sign_in(leader, served.unit(lang, "S-PUB"), PEOPLE["leader"], assert_accessible)
    await expect(leader.get_by_role("heading", level=1)).to_have_text(TEXT["title"][lang])
    await assert_accessible(leader)

    # (a) The staff discussion, by keyboard.
    await leader.select_option("#dialogue-step", "staff")
    await leader.fill("#dialogue-held_on", TODAY.isoformat())
    await leader.focus("#dialogue-note")
    await leader.keyboard.type("Results discussed in the staff meeting.")
    await leader.keyboard.press("Tab")
    await leader.keyboard.press("Enter")
    await expect(leader.locator(".notice")).to_have_text(TEXT["recorded"][lang])
    await assert_accessible(leader)

    # Two suggested focus areas chosen, a measure from the suggestions for each.
    for item in ("sc1", "wc1"):
        await leader.locator(f"#area-{item} form:has(input[value=accepted]) button").click()
        await expect(leader.locator(f"#area-{item} form:has(input[value=accepted])")).to_have_count(
            0
        )
    titles = [await add_measure(leader, item, assert_accessible) for item in ("sc1", "wc1")]
    await expect(leader.locator(".notice")).to_have_text(TEXT["added"][lang])
    await expect(leader.locator("article.measure h3")).to_have_text(titles)
    await expect(leader.locator("#checklist + p")).to_have_text(TEXT["quality"][lang])
    await assert_accessible(leader)
    await no_hidden_figure(leader)

    # (b) The second measure lifted to the clinic.
    second = leader.locator("article.measure").nth(1)
    await second.locator("a[href$='/escalate']").click()
    await assert_accessible(leader)
    await leader.fill("#reason", "Needs the clinic's staffing budget.")
    await leader.locator("main form button[type=submit]").click()
    await expect(leader.locator("article.measure").nth(1)).to_contain_text(TEXT["pending"][lang])
    await assert_accessible(leader)

    above = await new_page(viewport={"width": 1280, "height": 800})
    await sign_in(above, served.inbox(lang), PEOPLE["leader_above"], assert_accessible)
    card = above.locator("section[aria-labelledby=incoming] article", has_text=titles[1])
    await expect(card).to_contain_text("Needs the clinic's staffing budget.")
    await assert_accessible(above)
    await card.locator("form[action$='/accept'] button").click()
    await expect(above.locator(".notice")).to_have_text(TEXT["taken_in"][lang])
    await assert_accessible(above)
    await above.goto(served.unit(lang, "K"))
    await expect(above.locator("article.measure h3")).to_have_text([titles[1]])
    await assert_accessible(above)

    await leader.reload()
    await expect(leader.locator("article.measure").nth(1)).to_contain_text(TEXT["accepted"][lang])
    await leader.locator("#complete ~ form button").click()
    await expect(leader.locator(".notice")).to_have_text(TEXT["completed"][lang])
    await assert_accessible(leader)
    await leader.locator("#versions ~ ul a").first.click()
    await expect(leader.locator("main")).not_to_contain_text(TEXT["pending"][lang])
    await assert_accessible(leader)
    await no_hidden_figure(leader)

    # (c) An employee of the unit reads it on a phone: nothing cut off at the right.
    employee = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(employee, served.unit(lang, "S-PUB"), PEOPLE["employee"], assert_accessible)
    await expect(employee.get_by_role("heading", level=1)).to_have_text(TEXT["title"][lang])
    await expect(employee.locator("article.measure h3")).to_have_text(titles)
    assert await employee.locator("main form").count() == 0, "an employee only reads"
    width, visible = await employee.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width <= visible, f"the plan is {width}px wide on a {visible}px phone"
    await assert_accessible(employee)
    await no_hidden_figure(employee)
    # Printed for the archive: the plan without the page's navigation.
    await employee.emulate_media(media="print")
    await expect(employee.locator(".language-switcher")).to_be_hidden()
    await expect(employee.locator("article.measure").first).to_be_visible()


OVERVIEW = {
    "home": {"nb": "Handlingsplaner", "nn": "Handlingsplanar", "en": "Action plans"},
    "roll_up": {
        "nb": "Underenhetenes planer",
        "nn": "Planane til undereiningane",
        "en": "Sub-units' plans",
    },
    "indicators": {
        "nb": "Indikatorer for handlingsplaner",
        "nn": "Indikatorar for handlingsplanar",
        "en": "Action plan indicators",
    },
    "refused": {
        "nb": "Du har ikke tilgang",
        "nn": "Du har ikkje tilgang",
        "en": "You do not have access",
    },
    "edit": {"nb": "Endre tiltak", "nn": "Endre tiltak", "en": "Edit measure"},
}


async def test_the_overview_pages_a_measure_form_and_a_refusal_in_every_language(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    period = served.org.period_id
    async with httpx.AsyncClient(base_url=served.base, timeout=10) as http:
        bearer = await dev_bearer(http, PEOPLE["leader"])
        plan = (await http.get(f"/api/v1/periods/{period}/units/S-PUB/plan", headers=bearer)).json()
        made = await http.post(
            f"/api/v1/plans/{plan['plan_id']}/measures",
            headers=bearer,
            json={"category": "hse", "title": "Breaks on busy shifts", "linked_id": "wc2"},
        )
        assert made.status_code == 201, made.text
    edit = f"{served.base}/plans/{plan['plan_id']}/measures/{made.json()['measure_id']}"

    above = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(above, f"{served.base}/?lang=nb", PEOPLE["leader_above"], assert_accessible)
    hr = await new_page(viewport={"width": 1280, "height": 800})
    await sign_in(hr, f"{served.base}/?lang=nb", PEOPLE["hr_admin"], assert_accessible)
    leader = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(leader, f"{edit}?lang=nb", PEOPLE["leader"], assert_accessible)
    other = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(other, served.unit("nb", "S-PUB"), PEOPLE["elsewhere"], assert_accessible)

    async def shows(page: Page, url: str, heading: str) -> None:
        await page.goto(url)
        await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        width, visible = await page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width <= visible, f"{page.url} is {width}px wide in a {visible}px window"
        await no_hidden_figure(page)
        await assert_accessible(page)

    for lang in LANGS:
        await shows(above, f"{served.base}/?lang={lang}", OVERVIEW["home"][lang])
        await expect(above.locator("main table")).to_contain_text("Liten post")
        await shows(
            above, f"{served.base}/periods/{period}/roll-up?lang={lang}", OVERVIEW["roll_up"][lang]
        )
        await shows(above, served.unit(lang, "S-SMALL"), "Liten post")
        await expect(above.locator(".roll-up__label")).to_contain_text("Klinikk")
        await shows(
            hr,
            f"{served.base}/periods/{period}/indicators?lang={lang}",
            OVERVIEW["indicators"][lang],
        )
        await expect(hr.locator("a[href$='units-without-plan.xlsx']")).to_be_visible()
        await shows(hr, served.unit(lang, "K2"), "Rehabilitering")
        await expect(hr.locator(".roll-up__label")).to_contain_text("Rehabilitering")
        await shows(leader, f"{edit}?lang={lang}", OVERVIEW["edit"][lang])
        await expect(leader.locator("#status")).to_be_visible()
        await expect(leader.locator("#evaluation_decision")).to_be_visible()
        await shows(other, served.unit(lang, "S-PUB"), OVERVIEW["refused"][lang])
    download = await hr.request.get(f"{served.base}/periods/{period}/units-without-plan.csv")
    assert download.status == 200
    assert (await download.text()).startswith("unit_id,unit_name,level")
