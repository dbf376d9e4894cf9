"""The HR console's indicator targets in a real browser, on the real broker and
PostgreSQL: an HR admin sees the settings' targets, is refused a share over 100 %, sets
the period's targets, and the indicator page compares with them; the change is in
actionplan's audit log with their name; someone not HR is refused. On a 320 px phone,
axe-core clean in nb, nn and en."""

from collections.abc import Awaitable, Callable

import httpx
from playwright.async_api import Page, expect

from services.actionplan.tests.org import PEOPLE
from tests.browser.conftest import dev_bearer
from tests.browser.test_actionplan_pages import Served, served, sign_in

__all__ = ["served"]  # the fixture, shared with the plan pages' test

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
PHONE = {"width": 320, "height": 640}


async def no_sideways_scroll(page: Page) -> None:
    scroll, inner = await page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll <= inner, f"{page.url} scrolls sideways at {inner} px: {scroll}"


async def test_hr_sets_the_indicator_targets(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(
        page, f"{served.base}/admin/targets?lang=nb", PEOPLE["hr_admin"], assert_accessible
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mål for indikatorene")
    form = page.locator(f'form[data-period="{served.org.period_id}"]')
    await expect(form.locator('input[name="with_plan"]')).to_have_value("100")
    await no_sideways_scroll(page)
    await assert_accessible(page)

    # The browser stops a share over 100 % itself; without that, the service refuses it.
    await form.locator('input[name="with_plan"]').evaluate("e => e.removeAttribute('max')")
    await form.locator('input[name="with_plan"]').fill("120")
    await form.get_by_role("button", name="Lagre målene").click()
    await expect(page.locator(".error-summary")).to_contain_text("Målene ble ikke lagret")
    await assert_accessible(page)

    form = page.locator(f'form[data-period="{served.org.period_id}"]')
    await form.locator('input[name="with_plan"]').fill("80")
    await form.locator('input[name="complete_of_quality"]').fill("60.5")
    await form.locator('input[name="measures_done_by_deadline"]').fill("75")
    await form.get_by_role("button", name="Lagre målene").click()
    await expect(page.locator('[role="status"]')).to_have_text("Målene er lagret.")
    await expect(form.locator('input[name="complete_of_quality"]')).to_have_value("60.5")

    await form.get_by_role("link", name="Se indikatorene").click()
    await expect(page.locator("main")).to_contain_text("80 %")
    await expect(page.locator("main")).to_contain_text("75 %")

    await page.goto(f"{served.base}/admin/audit")
    log = page.locator("table.audit-log tbody")
    await expect(log.locator("tr")).to_have_count(1)
    await expect(log).to_contain_text("targets.set")
    await expect(log).to_contain_text(PEOPLE["hr_admin"])
    await no_sideways_scroll(page)
    await assert_accessible(page)

    for language in ("nn", "en"):
        await page.goto(f"{served.base}/admin/targets?lang={language}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await no_sideways_scroll(page)
        await assert_accessible(page)


async def test_only_hr_sets_targets(
    served: Served, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(page, f"{served.base}/admin/targets?lang=en", PEOPLE["leader"], assert_accessible)
    await expect(page.locator("h1")).not_to_have_text("Indicator targets")
    assert (await page.evaluate("() => document.title")).startswith(
        await page.locator("h1").inner_text()
    )
    await assert_accessible(page)


async def test_the_targets_through_the_api(served: Served) -> None:
    """The same use case over JSON: HR sets them, a leader is refused, a share over 100 %
    is invalid; the indicators compare with what was set."""
    period = served.org.period_id
    async with httpx.AsyncClient(base_url=served.base, timeout=10) as http:

        async def bearer(person: str) -> dict[str, str]:
            return await dev_bearer(http, person)

        hr, leader = await bearer(PEOPLE["hr_admin"]), await bearer(PEOPLE["leader"])
        body = {"with_plan": 90, "complete_of_quality": 70, "measures_done_by_deadline": 65}
        path = f"/api/v1/periods/{period}/targets"
        refused = await http.put(path, json=body, headers=leader)
        assert refused.status_code == 403, refused.text
        invalid = await http.put(path, json={**body, "with_plan": 120}, headers=hr)
        assert invalid.status_code == 422
        saved = await http.put(path, json=body, headers=hr)
        assert saved.status_code == 200, saved.text
        assert saved.json() == {k: float(v) for k, v in body.items()}
        rows = (await http.get(f"/api/v1/periods/{period}/indicators", headers=hr)).json()["rows"]
        assert {r["indicator"]: r["target"] for r in rows} == {k: float(v) for k, v in body.items()}
