"""HR's suppression preview in a real browser, on the real broker and PostgreSQL: the
hidden units of a hospital in miniature with why and where their answers count, the
totals, in nb, nn and en, on a desktop and a 390 px phone; axe-core finds nothing."""

import random
from collections.abc import Awaitable, Callable

import httpx
from playwright.async_api import Page, expect
from starlette.types import ASGIApp

from forbedring_aggregation import testing as synth
from forbedring_aggregation.app import create_app
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
from services.aggregation.tests.unit.test_suppression_second_edition import HOSPITAL
from tests.browser.conftest import add_session

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
ServeApp = Callable[[ASGIApp], Awaitable[str]]
Q = synth.questionnaire()
WHY = {
    "nb": "Enhetens egne svar \u2013 de som ikke hører til en publisert underenhet",
    "nn": "Eininga sine eigne svar \u2013 dei som ikkje høyrer til ei publisert undereining",
    "en": "Its own answers, those in no published sub-unit, are fewer than 5",
}


async def test_the_preview_page_explains_hidden_units_on_a_desktop_and_a_phone(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    serve_app: ServeApp,
    new_page: NewPage,
    assert_accessible: AssertAccessible,
) -> None:
    settings = AggregationSettings(
        database_url=await databases.create("aggregation"),
        **infrastructure.connections(private_topic_prefix),
        consumer_group=unique_name("aggregation"),
    )
    base = await serve_app(create_app(settings, verifier=verifier_for_tests()))
    period = unique_name("period")
    per_unit = {u: n for u, _, n in HOSPITAL}
    events = synth.responses(random.Random(11), period, Q, per_unit)
    opened = synth.opening(period, [(u, p) for u, p, _ in HOSPITAL], Q)
    servers = infrastructure.kafka_bootstrap_servers
    await synth.produce(servers, private_topic_prefix, synth.encoded(opened))
    await synth.produce(servers, private_topic_prefix, synth.encoded(events))

    async def counted() -> bool:
        hr = signed_in_as(synth.HR_ADMIN)
        async with httpx.AsyncClient(base_url=base, timeout=10, headers=hr) as http:
            reply = await http.get(f"/api/v1/periods/{period}/units/R")
        return bool(reply.status_code == 200 and reply.json()["respondents"] == len(events))

    await eventually(counted, timeout=60)
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        page = await new_page(viewport=viewport)
        session = issuer_for_tests().issue(synth.HR_ADMIN)
        await add_session(page, base, session)
        for language, why in WHY.items():
            await page.goto(f"{base}/periods/{period}/suppression?lang={language}")
            await expect(page.locator("h1")).to_be_visible()
            rows = page.locator("#hidden-caption ~ tbody tr")
            await expect(rows).to_have_count(4)
            c1 = rows.filter(has=page.locator("th", has_text="C1"))
            await expect(c1).to_contain_text(why)
            await expect(c1).to_contain_text("97")
            await expect(page.locator("dl")).to_contain_text("0")
            widths = await page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], f"horizontal scroll in {language} at {viewport}"
            await assert_accessible(page)
