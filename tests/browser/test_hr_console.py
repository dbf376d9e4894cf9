"""The HR console in a real browser, on the real PostgreSQL and Kafka: an HR admin
creates a period through the form, uploads an organisation that is refused (every
problem listed with its file, row and reason; nothing stored), then one that is accepted
(its counts and the top of its tree), opens and closes the period early after
confirming, downloads the research export, and finds each action with their name in the
audit log. On a 320 px phone; axe-core finds nothing on any console page in nb, nn or
en. A trust of 100,000 employees uploads through the same form, through nginx set up as
make up's proxy."""

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from starlette.types import ASGIApp

from forbedring_chassis.testing import Databases, Infrastructure
from forbedring_survey.app import create_app
from forbedring_survey.demo.hospital import generate_demo_hospital, to_csv_files
from forbedring_survey.domain.org_import import Organisation
from forbedring_survey.settings import SurveySettings
from forbedring_survey.testing import HR_ADMIN, small_organisation
from tests.browser.conftest import sign_in_from as sign_in
from tests.browser.nginx_proxy import nginx_in_front

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
ServeApp = Callable[[ASGIApp], Awaitable[str]]
PHONE = {"width": 320, "height": 640}


@pytest.fixture
async def survey(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    serve_app: ServeApp,
) -> str:
    settings = SurveySettings(
        database_url=await databases.create("survey"),
        **infrastructure.connections(private_topic_prefix),
        dev_issuer_enabled=True,
        hr_admins=[HR_ADMIN],
        scheduler_interval_s=0.2,
    )
    return await serve_app(create_app(settings))


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways at {width[1]} px: {width[0]}"


def refused_document() -> dict[str, object]:
    """A trust's export with three mistakes: an unknown parent, a bad address, a role
    for someone who is not in the file."""
    org = small_organisation({"A": 3}, people_prefix="bad")
    units = org["units"]
    people = org["people"]
    roles = org["roles"]
    units.append({"unit_id": "X", "parent_id": "nowhere", "name": "Lost", "kind": "section"})
    people[1]["email"] = "not-an-address"
    roles.append({"employee_id": "nobody", "unit_id": "A", "role": "leader"})
    return org


async def test_hr_creates_a_period_and_uploads_an_organisation(
    survey: str, new_page: NewPage, assert_accessible: AssertAccessible, tmp_path: Path
) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(page, f"{survey}/admin?lang=nb", HR_ADMIN)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Administrasjon")
    await expect(page.locator(".site-nav a", has_text="Administrasjon")).to_have_attribute(
        "href", "/survey/admin"
    )
    await no_sideways_scroll(page)
    await assert_accessible(page)

    # A period, through the form (the trust's local time).
    await page.fill("#name", "Forbedring 2027")
    await page.fill("#opens_at", "2027-02-01T08:00")
    await page.fill("#closes_at", "2027-03-01T16:00")
    await page.fill("#plan_deadline", "2027-06-30")
    await page.fill("#stage_2_delay_days", "10")
    await page.fill("#k", "6")
    await page.fill("#sensitive_k", "12")
    await page.get_by_role("button", name="Opprett perioden").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Forbedring 2027")
    facts = page.locator("dl.facts").first
    await expect(facts).to_contain_text("01.02.2027 08:00")
    await expect(facts).to_contain_text("Planlagt")
    await no_sideways_scroll(page)
    await assert_accessible(page)

    # Refused: every problem, with its file and row; nothing stored.
    bad = tmp_path / "organisation.json"
    bad.write_text(json.dumps(refused_document()), encoding="utf-8")
    await page.set_input_files("#files", str(bad))
    await page.get_by_role("button", name="Last opp", exact=True).click()
    problems = page.locator("table.import-problems tbody tr")
    await expect(page.locator("#problems-heading")).to_contain_text("avvist")
    assert await problems.count() >= 3
    listed = await page.locator("table.import-problems").inner_text()
    for expected in ("units", "people", "roles", "nowhere"):
        assert expected in listed, f"{expected!r} not in the error list:\n{listed}"
    await expect(page.locator("dl.facts").first).to_contain_text("Ikke lastet opp ennå")
    await no_sideways_scroll(page)
    await assert_accessible(page)

    # Checked first, then accepted: the counts and the top of the tree.
    good = tmp_path / "good.json"
    good.write_text(json.dumps(small_organisation({"A": 6, "B": 4})), encoding="utf-8")
    await page.set_input_files("#files", str(good))
    await page.get_by_role("button", name="Bare sjekk filene").click()
    await expect(page.locator("#preview-heading")).to_contain_text("ikke lagret")
    await expect(page.locator("dl.facts").first).to_contain_text("Ikke lastet opp ennå")
    await page.set_input_files("#files", str(good))
    await page.get_by_role("button", name="Last opp", exact=True).click()
    await expect(page.locator("#preview-heading")).to_have_text("Organisasjonen er lastet opp")
    await expect(page.locator('[data-count="units"]')).to_have_text("3")
    await expect(page.locator('[data-count="employees"]')).to_have_text("11")
    await expect(page.locator(".tree-sample li").first).to_contain_text("Test trust")
    await no_sideways_scroll(page)
    await assert_accessible(page)

    # Open early, after a confirmation.
    await page.get_by_role("link", name="Åpne perioden nå").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Åpne perioden nå?")
    await assert_accessible(page)
    await page.get_by_role("button", name="Åpne perioden nå").click()
    await expect(page.locator("dl.facts").first).to_contain_text("Åpen")

    # Close early, after a confirmation; then the research export downloads.
    await page.get_by_role("link", name="Lukk perioden nå").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Lukke perioden nå?")
    await page.get_by_role("button", name="Lukk perioden nå").click()
    await expect(page.locator("dl.facts").first).to_contain_text("Lukket")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Last ned forskningsuttrekket (CSV)").click()
    assert (await download.value).suggested_filename.startswith("research-")

    # Who did what, in the audit log.
    await page.goto(f"{survey}/admin/audit")
    log = page.locator("table.audit-log")
    for action in (
        "period.created",
        "organisation.imported",
        "organisation.checked",
        "period.opened_early",
        "period.closed",
        "research_export.downloaded",
    ):
        await expect(log).to_contain_text(action)
    await expect(log).to_contain_text("Avvist")
    await expect(log.locator("tbody tr").first).to_contain_text(HR_ADMIN)
    await no_sideways_scroll(page)
    await assert_accessible(page)

    for language in ("nn", "en"):
        await page.goto(f"{survey}/admin?lang={language}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await no_sideways_scroll(page)
        await assert_accessible(page)


async def test_someone_not_in_hr_is_refused(
    survey: str, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(page, f"{survey}/admin?lang=en", "an-employee")
    await expect(page.locator("main")).to_contain_text("Only HR administrators")
    assert not await page.locator(".site-nav a", has_text="Admin").count()
    await assert_accessible(page)


def write_csv_files(organisation: Organisation, folder: Path) -> tuple[list[str], float]:
    """The four CSV files in `folder`: their paths and their size in MB."""
    paths = []
    for name, content in to_csv_files(organisation).items():
        path = folder / name
        path.write_text(content, encoding="utf-8")
        paths.append(str(path))
    return paths, sum(Path(p).stat().st_size for p in paths) / 1e6


async def test_a_trust_of_100000_employees_uploads_through_the_console(
    survey: str, new_page: NewPage, tmp_path: Path
) -> None:
    """The demo hospital's tree with 100,000 people, as the four CSV files an HR system
    exports, uploaded by the browser's form through nginx configured as make up's proxy
    (its body limit), and stored whole."""
    organisation = generate_demo_hospital(people=100_000)
    paths, size_mb = write_csv_files(organisation, tmp_path)
    async with nginx_in_front("survey", survey, tmp_path) as proxy:
        await upload_100000(f"{proxy}/survey", organisation, paths, size_mb, new_page)


async def upload_100000(
    base: str, organisation: Organisation, paths: list[str], size_mb: float, new_page: NewPage
) -> None:
    page = await new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(600_000)  # a loaded 2-core machine; no timing is asserted
    await sign_in(page, f"{base}/admin?lang=en", HR_ADMIN)
    await page.fill("#name", "A large trust")
    await page.fill("#opens_at", "2027-02-01T08:00")
    await page.get_by_role("button", name="Create the period").click()
    await page.set_input_files("#files", paths)
    started = time.monotonic()
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.locator("#preview-heading")).to_have_text("The organisation is uploaded")
    print(
        f"100,000 employees, {size_mb:.1f} MB: uploaded through nginx and imported in "
        f"{time.monotonic() - started:.1f} s"
    )  # a figure for the README, not asserted
    await expect(page.locator('[data-count="employees"]')).to_have_text("100000")
    await expect(page.locator('[data-count="units"]')).to_have_text(str(len(organisation.units)))
    await expect(page.locator("dl.facts").first).to_contain_text("Uploaded")
