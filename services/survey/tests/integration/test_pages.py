"""The employee's pages without a browser: sign-in, whose invitation, the form post's
token, validation messages, one answer per invitation, language."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from forbedring_chassis.web import Pages
from forbedring_survey.testing import HR_ADMIN, people_of, small_organisation, valid_answers

from .conftest import Harness, open_period


@asynccontextmanager
async def _sign_in(harness: Harness, employee_id: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the same app holding the session cookie."""
    transport = harness.api.http._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://survey") as client:
        login = await client.get("/dev-login")  # its form carries the CSRF token
        reply = await client.post(
            "/dev-login/form",
            data={"employee_id": employee_id, "next": "/", "csrf_token": _token(login.text)},
        )
        assert reply.status_code == 303
        yield client


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the form carries a token"
    return found.group(1)


async def test_pages_need_sign_in(harness: Harness) -> None:
    for path in ("/", "/participation", "/thanks"):
        reply = await harness.api.http.get(path)
        assert reply.status_code == 401
        assert "/dev-login?next=" in reply.text


async def test_the_development_sign_in_speaks_the_readers_language(harness: Harness) -> None:
    """The first page a newcomer to the demo sees: the shared look, in nb, nn or en, and
    where it leads back to kept (never an address outside the site)."""
    for language, label, warning in (
        ("nb", "Ansattnummer", "uten passord"),
        ("nn", "Tilsettnummer", "utan passord"),
        ("en", "Employee id", "without a password"),
    ):
        page = await harness.api.http.get("/dev-login", params={"next": "/start", "lang": language})
        assert page.status_code == 200
        assert f'<html lang="{language}"' in page.text
        assert f'<label for="employee_id">{label}</label>' in page.text
        assert warning in page.text
        assert 'name="next" value="/start"' in page.text
        assert _token(page.text)
    outside = await harness.api.http.get("/dev-login", params={"next": "//elsewhere.example"})
    assert 'name="next" value="/"' in outside.text


async def test_surveys_are_addressed_by_position_never_by_invitation_id(
    harness: Harness,
) -> None:
    """Paths reach access logs and traces: an invitation id there, with the time, would
    tell who answered when."""
    organisation = small_organisation({"A": 2}, people_prefix="pg")
    await open_period(harness, organisation)
    owner, other = people_of(organisation, "A")
    invitation = (await harness.api.invitations(owner))[0]["invitation_id"]
    async with _sign_in(harness, owner) as client:
        home = await client.get("/")
        assert invitation not in home.text
        assert 'href="/answer/1"' in home.text
        form = await client.get("/answer/1")
        assert invitation not in form.text
        assert 'action="/answer/1"' in form.text
        assert (await client.get("/answer/2")).status_code == 404, "only one survey"
        assert (await client.get(f"/answer/{invitation}")).status_code != 200
    async with _sign_in(harness, other) as client:
        assert "Unit A" in (await client.get("/answer/1")).text, "their own survey"


async def test_the_form_posts_answers_once_and_refuses_without_its_token(
    harness: Harness,
) -> None:
    organisation = small_organisation({"A": 3}, people_prefix="pf")
    period_id = await open_period(harness, organisation)
    person = people_of(organisation, "A")[0]
    async with _sign_in(harness, person) as client:
        home = await client.get("/", params={"lang": "en"})
        assert "Unit A" in home.text
        page = await client.get("/answer/1")
        assert page.status_code == 200
        assert page.headers["content-language"] == "en"
        assert page.text.count("<fieldset") >= 35
        answers = {k: str(v) for k, v in valid_answers().items()}

        forged = await client.post("/answer/1", data={**answers, "csrf_token": "x"})
        assert forged.status_code == 403

        missing = dict(answers)
        first_item = next(iter(missing))
        del missing[first_item]
        invalid = await client.post("/answer/1", data={**missing, "csrf_token": _token(page.text)})
        assert invalid.status_code == 422
        assert 'role="alert"' in invalid.text
        assert f'href="#{first_item}-legend"' in invalid.text
        assert 'aria-invalid="true"' in invalid.text
        assert "This question needs an answer." in invalid.text
        # The answers given are kept in the form.
        second_item = next(iter(missing))
        assert re.search(
            rf'name="{second_item}" value="{missing[second_item]}" checked', invalid.text
        )
        counted = await harness.api.participation(period_id, person)
        assert sum(u["respondents"] for u in counted["units"]) == 0, "nothing stored"

        sent = await client.post("/answer/1", data={**answers, "csrf_token": _token(invalid.text)})
        assert sent.status_code == 303
        assert sent.headers["location"].endswith("/thanks")
        again = await client.post("/answer/1", data={**answers, "csrf_token": _token(page.text)})
        assert again.status_code == 409
        assert "already been answered" in again.text

        participation = await client.get("/participation")
        row = re.search(r'<tr data-unit="A">.*?</tr>', participation.text, re.S)
        assert row
        assert re.search(r"<td[^>]*>1</td>", row.group(0))


async def test_pages_speak_the_chosen_language(harness: Harness) -> None:
    organisation = small_organisation({"A": 1}, people_prefix="pl")
    await open_period(harness, organisation)
    async with _sign_in(harness, people_of(organisation, "A")[0]) as client:
        texts = {
            lang: (await client.get("/", params={"lang": lang})).text for lang in ("nb", "nn", "en")
        }
    assert "Dine undersøkelser" in texts["nb"]
    assert "Undersøkingane dine" in texts["nn"]
    assert "Your surveys" in texts["en"]
    assert '<html lang="nn">' in texts["nn"]


def test_every_page_text_exists_in_all_three_languages() -> None:
    pages = Pages.for_package("forbedring_survey")
    assert pages.missing_messages() == []
    assert pages.catalog.problems() == []


async def test_the_directorys_language_comes_before_the_browsers(harness: Harness) -> None:
    """An explicit choice, then the person's preferred language from the directory, then
    the browser's Accept-Language (issue 17: demo-employee was shown English)."""
    organisation = small_organisation({"A": 1}, people_prefix="pd")
    for person in organisation["people"]:
        person["language"] = "nn"
    await open_period(harness, organisation)
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    async with _sign_in(harness, people_of(organisation, "A")[0]) as client:
        preferred = await client.get("/", headers=english)
        assert '<html lang="nn">' in preferred.text
        chosen = await client.get("/", params={"lang": "en"}, headers=english)
        assert '<html lang="en">' in chosen.text
        assert '<html lang="en">' in (await client.get("/", headers=english)).text, (
            "the choice is remembered (cookie) over the directory's"
        )


async def test_the_header_links_what_the_person_may_use(harness: Harness) -> None:
    organisation = small_organisation({"A": 1}, people_prefix="pn")
    await open_period(harness, organisation)
    async with _sign_in(harness, people_of(organisation, "A")[0]) as client:
        page = (await client.get("/participation", params={"lang": "en"})).text
    nav = re.search(r'<nav class="site-nav".*?</nav>', page, re.S)
    assert nav, "the one navigation is in the header"
    assert 'href="/survey/"' in nav.group(0)
    assert 'href="/publication/"' in nav.group(0)
    assert "/survey/admin" not in nav.group(0), "an employee has no admin link"
    async with _sign_in(harness, HR_ADMIN) as client:
        page = (await client.get("/", params={"lang": "en"})).text
    assert 'href="/survey/participation"' in page
    assert '<p class="site-person">H R</p>' in page


async def test_participation_shows_the_persons_own_units_first_then_the_tree(
    harness: Harness,
) -> None:
    organisation = small_organisation({"A": 1, "B": 1}, people_prefix="po")
    leader = people_of(organisation, "B")[0]
    organisation["roles"].append({"employee_id": leader, "unit_id": "B", "role": "leader"})
    await open_period(harness, organisation)
    async with _sign_in(harness, leader) as client:
        page = (await client.get("/participation", params={"lang": "en"})).text
    own = re.search(r'<section class="own-units".*?</section>', page, re.S)
    assert own, "the leader's own units come first"
    assert 'data-unit="B"' in own.group(0)
    assert 'data-unit="A"' not in own.group(0)
    tree = re.search(r'<details class="unit-tree">.*?</details>', page, re.S)
    assert tree, "the whole tree follows, folded (details/summary, no script)"
    assert 'data-unit="A"' in tree.group(0)
    assert "data-label=" in tree.group(0), "each cell names its column for the reflow"
    async with _sign_in(harness, people_of(organisation, "A")[0]) as client:
        page = (await client.get("/participation")).text
    assert "own-units" not in page
    assert '<details class="unit-tree" open>' in page, "no own units: the tree is open"
