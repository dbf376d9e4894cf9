"""Every page of a service on a 320 px phone: the pages are found from the app's own
routes (the every-route test's enumeration, tests/service_routes.py), so a page added
later must be visited here or listed with why not; each visited page, in nb, nn and en,
must not scroll sideways, must keep its chart text at least 14 px as drawn (font size
times the SVG's scale), and axe-core must find nothing."""

import importlib
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from playwright.async_api import Page

from tests.browser import conftest as browser
from tests.service_routes import routes_of, settings_class

PHONE = {"width": 320, "height": 640}
LANGUAGES = ("nb", "nn", "en")
MIN_CHART_TEXT_PX = 14.0
# Routes that are no page for a person to read, and why.
NOT_PAGES = {
    "/.well-known/jwks.json": "the development issuer's keys (JSON)",
    "/docs": "Swagger UI, the API's documentation (its own policy, not our layout)",
    "/docs/oauth2-redirect": "Swagger UI's sign-in callback",
    "/redoc": "ReDoc, the API's documentation (not our layout)",
    "/openapi.json": "JSON",
    "/healthz": "JSON",
    "/readyz": "JSON",
    "/signin": "a redirect to the trust's issuer",
    "/signin/callback": "the issuer's redirect back",
}
DOWNLOAD = re.compile(r"\.(csv|xlsx|\{kind\})$")
# The chart text as drawn: CSS font size times the SVG's scale on the screen.
CHART_TEXT_SIZES = """() => [...document.querySelectorAll('svg.chart text')]
  .filter((t) => t.checkVisibility())
  .map((t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""


@dataclass(frozen=True)
class Visit:
    path: str  # concrete, query allowed
    person: str | None  # signed in as, None: anonymous


def pages_of(service: str) -> list[str]:
    """The service's HTML pages (GET routes that are not the API, static files, downloads
    or the listed non-pages), from the app itself (built without I/O)."""
    settings = settings_class(service).model_validate({"dev_issuer_enabled": True})
    app: FastAPI = importlib.import_module(f"forbedring_{service}.app").create_app(settings)
    found = []
    for method, path, _ in routes_of(app):
        if method != "GET" or path.startswith(("/api/", "/static/")) or path in NOT_PAGES:
            continue
        if DOWNLOAD.search(path):
            continue
        found.append(path)
    return sorted(found)


def check_coverage(
    service: str, visits: Mapping[str, Sequence[Visit]], not_visited: Mapping[str, str]
) -> dict[str, Sequence[Visit]]:
    """Fail on a page neither visited nor listed; the visits of the pages the app has."""
    pages = set(pages_of(service))
    forgotten = pages - set(visits) - set(not_visited)
    assert not forgotten, f"{service}: pages neither visited nor listed: {sorted(forgotten)}"
    return {route: seen for route, seen in visits.items() if route in pages}


async def measure(page: Page) -> list[str]:
    """What is wrong with the page on this screen (empty: nothing)."""
    problems = []
    scroll, inner = await page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll > inner:
        problems.append(f"scrolls sideways: {scroll} px on a {inner} px screen")
    sizes: list[float] = await page.evaluate(CHART_TEXT_SIZES)
    small = [size for size in sizes if size < MIN_CHART_TEXT_PX]
    if small:
        problems.append(f"{len(small)} chart text(s) under 14 px, the smallest {min(small):.1f} px")
    return problems


SignIn = Callable[[Page, str], Awaitable[None]]


async def visit_every_page(
    *,
    base: str,
    visits: Mapping[str, Sequence[Visit]],
    new_page: Callable[..., Awaitable[Page]],
    sign_in: SignIn,
    assert_accessible: Callable[[Page], Awaitable[None]],
) -> int:
    """Visit each page in each language, one browser context per person; fail listing
    every problem found. Returns how many page views were checked."""
    people: dict[str | None, Page] = {}
    problems: list[str] = []
    views = 0
    for route, seen in visits.items():
        for visit in seen:
            if visit.person not in people:
                people[visit.person] = page = await new_page(viewport=PHONE)
                if visit.person is not None:
                    await sign_in(page, visit.person)
            page = people[visit.person]
            for language in LANGUAGES:
                joiner = "&" if "?" in visit.path else "?"
                url = f"{base}{visit.path}{joiner}lang={language}"
                reply = await page.goto(url)
                assert reply is not None
                await page.wait_for_load_state()
                found = await measure(page)
                try:
                    await assert_accessible(page)
                except AssertionError as error:
                    found.append(str(error).splitlines()[0])
                if reply.status >= 500:
                    found.append(f"answered {reply.status}")
                problems += [f"{route} as {visit.person} ({language}) {url}: {p}" for p in found]
                views += 1
    assert problems == [], "\n".join(problems)
    return views


def anyone(*paths: str) -> list[Visit]:
    return [Visit(path, None) for path in paths]


def as_(person: str, *paths: str) -> list[Visit]:
    return [Visit(path, person) for path in paths]


def dev_sign_in(base: str) -> SignIn:
    async def sign_in(page: Page, person: str) -> None:
        await browser.dev_sign_in(page, f"{base}/dev-login?next=/", person)

    return sign_in


def cookie_sign_in(base: str, issue: Callable[[str], str]) -> SignIn:
    """Signed in by a session cookie from a test issuer (services built without the
    development sign-in)."""

    async def sign_in(page: Page, person: str) -> None:
        await browser.add_session(page, base, issue(person))

    return sign_in


def merged(*groups: Mapping[str, Sequence[Visit]]) -> dict[str, list[Visit]]:
    out: dict[str, list[Visit]] = {}
    for group in groups:
        for route, seen in group.items():
            out.setdefault(route, []).extend(seen)
    return out


__all__ = [
    "Visit",
    "anyone",
    "as_",
    "check_coverage",
    "cookie_sign_in",
    "dev_sign_in",
    "merged",
    "pages_of",
    "visit_every_page",
]
