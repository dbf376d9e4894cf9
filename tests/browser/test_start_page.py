"""The start page in a real browser, survey and publication behind one origin as the
proxy puts them, on the real broker, PostgreSQL and Redis: a leader sees the survey they
have to answer and their unit's participation (survey's own), and the results ready to
read (publication's summary, fetched by the page's script); the plans' summary cannot be
had here (no actionplan behind this origin), so its plain link stays. Without
JavaScript every part still links on. On a 320 px phone, no policy violation, axe-core
clean in nb, nn and en."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.async_api import Page, expect
from pydantic import SecretStr
from starlette.types import ASGIApp

from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import Databases, Infrastructure, eventually, unique_name
from forbedring_contracts import envelope
from forbedring_publication.app import create_app as create_publication
from forbedring_publication.settings import PublicationSettings
from forbedring_survey.app import create_app as create_survey
from forbedring_survey.settings import SurveySettings
from forbedring_survey.testing import HR_ADMIN, SurveyApi, small_organisation
from services.publication.tests.integration.conftest import (
    FINALIZED_AT,
    PEOPLE,
    STAGE_1_DELAY,
    an_org,
)
from tests.browser.conftest import dev_bearer, dev_sign_in
from tests.browser.one_origin import one_origin

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
ServeApp = Callable[[ASGIApp], Awaitable[str]]
PHONE = {"width": 320, "height": 640}
LEADER = PEOPLE["leader"]  # leads S-PUB in publication's directory, unit A in survey's
TEXT = {
    "nb": ("Hva du skal gjøre nå", "Svar for Unit A", "klare til å leses"),
    "nn": ("Kva du skal gjere no", "Svar for Unit A", "klare til å lesast"),
    "en": ("What to do now", "Answer for Unit A", "ready to read"),
}


@dataclass
class Origin:
    base: str
    period_id: str  # publication's finalised period (survey's own opened one is there too)


def one_key() -> str:
    """One development signing key for both services, as make up creates it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


async def produce(infrastructure: Infrastructure, prefix: str, events: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            record = envelope.encode(event)
            await producer.send_and_wait(
                prefix + record.topic,
                record.value,
                key=record.key,
                headers=record.headers,
                timestamp_ms=record.timestamp_ms,
            )
    finally:
        await producer.stop()


@pytest.fixture
async def origin(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    serve_app: ServeApp,
) -> Origin:
    key = one_key()
    survey = await serve_app(
        create_survey(
            SurveySettings(
                database_url=await databases.create("survey"),
                **infrastructure.connections(private_topic_prefix),
                dev_issuer_enabled=True,
                dev_issuer_private_key=SecretStr(key),
                hr_admins=[HR_ADMIN],
                scheduler_interval_s=0.2,
            )
        )
    )
    organisation = small_organisation({"A": 3}, people_prefix="st")
    organisation["people"].append(
        {"employee_id": LEADER, "name": "Lea Leder", "email": "lea@example.org", "language": "nb"}
    )
    organisation["assignments"].append(
        {"employee_id": LEADER, "unit_id": "A", "position_percent": 100}
    )
    organisation["roles"].append({"employee_id": LEADER, "unit_id": "A", "role": "leader"})
    async with httpx.AsyncClient(base_url=survey, timeout=30) as http:
        await SurveyApi(http).open_period(organisation)

    org = an_org()
    clock = SettableClock(FINALIZED_AT + STAGE_1_DELAY)
    publication = await serve_app(
        create_publication(
            PublicationSettings(
                database_url=await databases.create("publication"),
                **infrastructure.connections(private_topic_prefix),
                consumer_group=unique_name("publication"),
                dev_issuer_enabled=True,
                dev_issuer_private_key=SecretStr(key),
                scheduler_interval_s=0.1,
            ),
            clock=clock,
        )
    )
    await produce(
        infrastructure,
        private_topic_prefix,
        [org.opened, org.directory, *org.results, org.finalized],
    )
    async with httpx.AsyncClient(base_url=publication, timeout=10) as http:
        bearer = await dev_bearer(http, LEADER)

        async def readable() -> bool:
            found = await http.get("/api/v1/me/results", headers=bearer)
            return found.status_code == 200 and any(p["readable"] for p in found.json())

        await eventually(readable, timeout=60)
    base = await serve_app(one_origin({"survey": survey, "publication": publication}))
    return Origin(base, org.period_id)


async def sign_in(page: Page, base: str, person: str) -> None:
    await dev_sign_in(page, f"{base}/survey/dev-login?next=/survey/start", person)


@pytest.mark.parametrize("language", ["nb", "nn", "en"])
async def test_a_leaders_start_page(
    language: str, origin: Origin, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    title, answer, readable = TEXT[language]
    page = await new_page(viewport=PHONE)
    await sign_in(page, origin.base, LEADER)
    await page.goto(f"{origin.base}/survey/start?lang={language}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator(".site-nav a[aria-current]")).to_have_attribute(
        "href", "/survey/start"
    )
    await expect(page.get_by_role("link", name=answer)).to_be_visible()
    await expect(page.locator('#start-participation ~ ul li[data-unit="A"]')).to_contain_text("0")
    results = page.locator('[data-kind="results"]')
    await expect(results).to_have_class("start-part summary-loaded")
    ready = results.locator("ul.summary li", has_text=readable)
    await expect(ready).to_have_count(1)
    await expect(ready.locator("a")).to_have_attribute(
        "href", f"/publication/periods/{origin.period_id}"
    )
    # No actionplan behind this origin: its summary fails, its plain link stays.
    await expect(page.locator('[data-kind="plans"] .fallback a')).to_have_attribute(
        "href", "/actionplan/"
    )
    scroll, inner = await page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll <= inner
    await assert_accessible(page)

    # The results link leads to the readable report through the same origin.
    await ready.locator("a").click()
    await expect(page).to_have_url(f"{origin.base}/publication/periods/{origin.period_id}")


async def test_without_javascript_every_part_links_on(
    origin: Origin, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    page = await new_page(viewport=PHONE, java_script_enabled=False)
    await sign_in(page, origin.base, LEADER)
    await page.goto(f"{origin.base}/survey/start?lang=nb")
    await expect(page.get_by_role("link", name="Se resultatene")).to_have_attribute(
        "href", "/publication/"
    )
    await expect(page.get_by_role("link", name="Gå til handlingsplanene")).to_be_visible()
    await expect(page.get_by_role("link", name="Svar for Unit A")).to_be_visible()
