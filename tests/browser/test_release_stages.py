"""The HR console's release stages in a real browser, on the real broker, PostgreSQL and
Redis: an HR admin sees both stages of a finalised period, postpones stage 1 (refused
first for a time already past, the reason shown), and finds both attempts with their
name in publication's audit log; someone else is refused. On a 320 px phone, axe-core
clean in nb, nn and en."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from services.publication.tests.integration.conftest import FINALIZED_AT, PEOPLE, STAGE_1_DELAY
from tests.browser.test_publication_report import Served, served, sign_in

__all__ = ["served"]  # the fixture, shared with the report's test

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
PHONE = {"width": 320, "height": 640}
OSLO = ZoneInfo("Europe/Oslo")


async def no_sideways_scroll(page: Page) -> None:
    scroll, inner = await page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll <= inner, f"{page.url} scrolls sideways at {inner} px: {scroll}"


async def test_hr_postpones_a_stage(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(page, f"{served.base}/admin/stages?lang=nb", PEOPLE["hr_admin"])
    await expect(page.get_by_role("heading", level=1)).to_have_text("Publiseringstrinn")
    due = (FINALIZED_AT + STAGE_1_DELAY).astimezone(OSLO).strftime("%d.%m.%Y %H:%M")
    await expect(page.locator('dl[data-stage="1"]')).to_contain_text(due)
    await no_sideways_scroll(page)
    await assert_accessible(page)

    # A time already past is refused, with the rule's reason.
    past = (served.clock.now() - timedelta(days=1)).astimezone(OSLO)
    await page.fill("#until-1-1", past.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="Utsett trinn 1").click()
    await expect(page.locator(".error-summary")).to_contain_text("Trinnet ble ikke utsatt")
    await expect(page.locator('dl[data-stage="1"]')).to_contain_text(due)
    await assert_accessible(page)

    later = (FINALIZED_AT + STAGE_1_DELAY + timedelta(days=3)).astimezone(OSLO)
    await page.fill("#until-1-1", later.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="Utsett trinn 1").click()
    await expect(page.locator('dl[data-stage="1"]')).to_contain_text(
        later.strftime("%d.%m.%Y %H:%M")
    )
    await expect(page.locator(".error-summary")).to_have_count(0)

    await page.get_by_role("link", name="Revisjonslogg for publiseringen").click()
    log = page.locator("table.audit-log tbody")
    await expect(log.locator("tr")).to_have_count(2)
    # (the test's clock stands still, so both have the same time and either comes first)
    await expect(log.locator("tr", has_text="Utført")).to_have_count(1)
    await expect(log.locator("tr", has_text="Avvist")).to_have_count(1)
    await expect(log).to_contain_text(PEOPLE["hr_admin"])
    await no_sideways_scroll(page)
    await assert_accessible(page)

    for language in ("nn", "en"):
        await page.goto(f"{served.base}/admin/stages?lang={language}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await no_sideways_scroll(page)
        await assert_accessible(page)


async def test_only_hr_sees_the_stages(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(page, f"{served.base}/admin/stages?lang=en", PEOPLE["employee"])
    await expect(page.locator("main")).to_contain_text("Only HR administrators")
    await assert_accessible(page)
