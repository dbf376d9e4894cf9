"""An employee answers the survey in a real browser, in each language: signs in, answers
every question (some with the keyboard), sees the confirmation and their unit's
participation rise; axe-core finds nothing on the form, the confirmation or the
participation page. The survey runs on the real PostgreSQL and Kafka."""

import re
from collections.abc import Awaitable, Callable

import httpx
import pytest
from playwright.async_api import Page, expect
from starlette.types import ASGIApp

from forbedring_chassis.testing import Databases, Infrastructure
from forbedring_survey.app import create_app
from forbedring_survey.domain.questionnaire import load_questionnaire
from forbedring_survey.settings import SurveySettings
from forbedring_survey.testing import HR_ADMIN, SurveyApi, people_of, small_organisation

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
ServeApp = Callable[[ASGIApp], Awaitable[str]]

QUESTIONNAIRE = load_questionnaire("2026.1")
PHONE = {"width": 375, "height": 740}
TEXTS = {
    "nb": {"sign_in": "Logg inn", "answer": "Svar for", "thanks": "Takk for svarene dine"},
    "nn": {"sign_in": "Logg inn", "answer": "Svar for", "thanks": "Takk for svara dine"},
    "en": {"sign_in": "Sign in", "answer": "Answer for", "thanks": "Thank you for your answers"},
}


@pytest.fixture
async def survey(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    serve_app: ServeApp,
) -> tuple[str, dict[str, object]]:
    """The survey served over HTTP with an open period for unit A (6 people)."""
    settings = SurveySettings(
        database_url=await databases.create("survey"),
        **infrastructure.connections(private_topic_prefix),
        dev_issuer_enabled=True,
        hr_admins=[HR_ADMIN],
        scheduler_interval_s=0.2,
    )
    base = await serve_app(create_app(settings))
    organisation = small_organisation({"A": 6}, people_prefix="br")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await SurveyApi(http).open_period(organisation)
    return base, organisation


async def respondents_of_unit_a(page: Page) -> int:
    cell = page.locator('tr[data-unit="A"] td').first
    return int(await cell.inner_text())


async def answer_everything(page: Page) -> None:
    for item in QUESTIONNAIRE.items:
        await page.check(f"#{item.id}-{'4' if item.kind == 'scale' else 'no'}")
    for question in QUESTIONNAIRE.background.questions:
        await page.check(f"#{question.id}-{question.options[0].code}")


@pytest.mark.parametrize("language", ["nb", "nn", "en"])
async def test_an_employee_answers_the_whole_survey(
    language: str,
    survey: tuple[str, dict[str, object]],
    new_page: NewPage,
    assert_accessible: AssertAccessible,
) -> None:
    base, organisation = survey
    person = people_of(organisation, "A")[0]
    texts = TEXTS[language]
    viewport = PHONE if language == "nb" else {"width": 1280, "height": 800}
    page = await new_page(viewport=viewport)

    await page.goto(f"{base}/participation?lang={language}")
    await page.get_by_role("link", name=texts["sign_in"]).click()
    await page.fill("#employee_id", person)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/participation$"))
    before = await respondents_of_unit_a(page)

    await page.goto(f"{base}/")
    await page.get_by_role("link", name=f"{texts['answer']} Unit A").click()
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await assert_accessible(page)

    # A radio group answered with the keyboard alone: focus, Space, arrow to the next.
    first = QUESTIONNAIRE.items[0].id
    await page.focus(f"#{first}-1")
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowDown")
    await expect(page.locator(f"#{first}-2")).to_be_checked()
    if language == "nn":
        # A draft survives a reload, in this tab only; nothing was sent.
        await page.reload()
        await expect(page.locator(f"#{first}-2")).to_be_checked()
        stored = await page.evaluate("() => JSON.stringify(sessionStorage)")
        assert f'\\"{first}\\":\\"2\\"' in stored

    await answer_everything(page)
    if language == "en":
        # One required answer taken away: the summary names it, nothing is stored.
        required = next(i for i in QUESTIONNAIRE.items if i.required and i.id != first)
        await page.evaluate(
            "name => document.querySelectorAll(`input[name='${name}']`)"
            ".forEach(i => { i.checked = false; })",
            required.id,
        )
        await page.locator("main").get_by_role("button").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_contain_text("This question needs an answer.")
        await expect(page.locator(f"#{first}-4")).to_be_checked()  # answers kept
        await assert_accessible(page)
        await summary.get_by_role("link").first.click()
        await page.check(f"#{required.id}-4")

    await page.locator("main").get_by_role("button").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(texts["thanks"])
    assert await page.evaluate("() => sessionStorage.length") == 0, "the draft is gone"
    await assert_accessible(page)

    await page.goto(f"{base}/participation")
    await expect(page.locator('tr[data-unit="A"] td').first).to_have_text(str(before + 1))
    await assert_accessible(page)
