"""The shared page layout in a real browser: accessible in every language, usable with
the keyboard and on a phone, and working behind the proxy's path prefix.

The app is a test-only service built like a real one: its own templates and messages
(tests/browser/example/) over the chassis's layout, plus the chassis's status page.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import FileSystemLoader
from playwright.async_api import Page, expect
from starlette.types import ASGIApp, Receive, Scope, Send

from forbedring_chassis.runtime import ForwardedPrefix
from forbedring_chassis.web import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    Pages,
    install_pages,
    render,
    status_router,
)

# The fixtures' types (tests/browser/conftest.py).
AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
ServeApp = Callable[[ASGIApp], Awaitable[str]]

EXAMPLE = Path(__file__).parent / "example"
SERVICE_NAMES = {"nb": "Eksempeltjenesten", "nn": "Dømetenesta", "en": "the example service"}
PHONE = {"width": 360, "height": 740}
BRAND_BACKGROUND = "rgb(18, 53, 91)"  # --brand in forbedring.css: proves the CSS loaded


def example_app() -> FastAPI:
    app = FastAPI()
    install_pages(
        app,
        Pages(
            templates=FileSystemLoader(EXAMPLE / "templates"),
            messages=[EXAMPLE / "messages.toml"],
        ),
    )
    app.include_router(status_router())

    @app.get("/form", response_class=HTMLResponse, name="example-form")
    async def form(request: Request) -> HTMLResponse:
        return render(request, "form.html", {"error": "error" in request.query_params})

    @app.get("/broken", response_class=HTMLResponse)
    async def broken(request: Request) -> HTMLResponse:
        return render(request, "broken.html")

    app.add_middleware(ForwardedPrefix)
    return app


class StripPrefixProxy:
    """What the reverse proxy does: strip the prefix from the path, say so in a header."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if not path.startswith(self.prefix + "/"):
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b"not behind the proxy"})
                return
            scope = {
                **scope,
                "path": path[len(self.prefix) :],
                "raw_path": path[len(self.prefix) :].encode(),
                "headers": [*scope["headers"], (b"x-forwarded-prefix", self.prefix.encode())],
            }
        await self.app(scope, receive, send)


def test_the_example_service_has_every_message_in_every_language() -> None:
    pages = Pages(
        templates=FileSystemLoader(EXAMPLE / "templates"), messages=[EXAMPLE / "messages.toml"]
    )
    assert pages.missing_messages() == []
    assert pages.catalog.problems() == []


@pytest.fixture
async def base_url(serve_app: ServeApp) -> str:
    return await serve_app(example_app())


async def html_lang(page: Page) -> str:
    return str(await page.evaluate("() => document.documentElement.lang"))


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_status_page_passes_axe_in_every_language(
    page: Page, base_url: str, language: str, assert_accessible: AssertAccessible
) -> None:
    await page.goto(f"{base_url}/?lang={language}")
    assert await html_lang(page) == language
    await expect(page.get_by_role("heading", level=1)).to_contain_text(SERVICE_NAMES[language])
    await expect(page.locator(".site-header")).to_have_css("background-color", BRAND_BACKGROUND)
    await assert_accessible(page)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_example_form_passes_axe_with_and_without_an_error(
    page: Page, base_url: str, language: str, assert_accessible: AssertAccessible
) -> None:
    await page.goto(f"{base_url}/form?lang={language}")
    await expect(page.get_by_role("group")).to_be_visible()  # fieldset + legend
    await assert_accessible(page)
    await page.goto(f"{base_url}/form?lang={language}&error=1")
    await expect(page.locator(".error-message")).to_be_visible()
    await assert_accessible(page)


async def test_the_language_switcher_works_with_the_keyboard_alone(
    page: Page, base_url: str
) -> None:
    await page.goto(f"{base_url}/?lang=nb")
    assert await html_lang(page) == "nb"
    # The first Tab lands on the skip link, which then comes on screen.
    await page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport(ratio=1)
    # Tab on to the English link (a bounded number of steps), then Enter.
    english = page.locator('.language-switcher a[hreflang="en"]')
    for _ in range(10):
        if await english.evaluate("link => link === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await expect(english).to_be_focused()
    # The focus indicator is an outline, not just a change of colour.
    assert await english.evaluate("link => getComputedStyle(link).outlineStyle") == "solid"
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert await html_lang(page) == "en"
    await expect(page.get_by_role("heading", level=1)).to_contain_text(SERVICE_NAMES["en"])
    await expect(page.locator('.language-switcher a[aria-current="true"]')).to_have_attribute(
        "hreflang", "en"
    )
    # The choice is remembered: the next page, without ?lang=, is still in English.
    cookies = {c.get("name"): c.get("value") for c in await page.context.cookies()}
    assert cookies[LANGUAGE_COOKIE] == "en"
    await page.goto(f"{base_url}/form")
    assert await html_lang(page) == "en"


async def test_the_skip_link_moves_focus_to_the_main_content(
    new_page: NewPage, base_url: str
) -> None:
    # With reduced motion asked for, the skip link appears without a transition.
    page = await new_page(reduced_motion="reduce")
    await page.goto(f"{base_url}/form?lang=nn")
    await page.keyboard.press("Tab")
    duration = await page.locator(".skip-link").evaluate(
        "link => parseFloat(getComputedStyle(link).transitionDuration)"
    )
    assert duration < 0.001
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()
    # The next Tab goes into the content (the first answer), not back to the header.
    await page.keyboard.press("Tab")
    await expect(page.locator("#q1-agree")).to_be_focused()


@pytest.mark.parametrize("path", ["/", "/form?error=1"])
async def test_pages_fit_a_360_pixel_wide_phone(
    new_page: NewPage, base_url: str, path: str, assert_accessible: AssertAccessible
) -> None:
    page = await new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    for language in LANGUAGES:
        separator = "&" if "?" in path else "?"
        await page.goto(f"{base_url}{path}{separator}lang={language}")
        header = page.locator(".site-header")
        await expect(header).to_have_css("background-color", BRAND_BACKGROUND)
        widths: list[Any] = await page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"horizontal scroll in {language}: {widths}"
        # The language links are touch targets of at least 44 px.
        for link in await page.locator(".language-switcher a").all():
            box = await link.bounding_box()
            assert box is not None
            assert box["height"] >= 44, await link.inner_text()
        await assert_accessible(page)


async def test_pages_work_behind_the_proxy_prefix(
    page: Page, serve_app: ServeApp, assert_accessible: AssertAccessible
) -> None:
    base = await serve_app(StripPrefixProxy(example_app(), "/example"))
    await page.goto(f"{base}/example/form?lang=nb")
    # The stylesheet came through the prefix, and so does every link.
    await expect(page.locator(".site-header")).to_have_css("background-color", BRAND_BACKGROUND)
    await expect(page.locator(".site-name")).to_have_attribute("href", "/example/")
    await page.locator('.language-switcher a[hreflang="nn"]').click()
    await expect(page).to_have_url(f"{base}/example/form?lang=nn")
    assert await html_lang(page) == "nn"
    await assert_accessible(page)


async def test_the_accessibility_check_can_fail(
    page: Page, base_url: str, assert_accessible: AssertAccessible
) -> None:
    await page.goto(f"{base_url}/broken?lang=en")
    with pytest.raises(AssertionError) as failure:
        await assert_accessible(page)
    report = str(failure.value)
    assert "image-alt (critical)" in report  # the <img> without alt
    assert "label (critical)" in report  # the input without a label
    assert "comment" in report  # and where: the offending input is named
