"""The strict Content-Security-Policy in a real browser: an inline style or script is
refused, and the accessibility check reports it, so that no page of ours relies on one;
a form on another site cannot post to us with the victim's cookie."""

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.async_api import Page

from forbedring_chassis.security import CrossOriginGuard, SecurityHeaders
from tests.browser.conftest import AssertAccessible, NewPage, ServeApp

PAGE = """<!doctype html><html lang="nb"><head><title>Prøve</title></head>
<body><main><h1 style="color: rgb(255, 0, 0)">Overskrift</h1>
<script>document.body.dataset.ran = "yes"</script>
<form method="post" action="/change"><button>Endre</button></form></main></body></html>"""


def guarded_app() -> FastAPI:
    app = FastAPI()
    changes: list[str] = []

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE

    @app.post("/change", response_class=HTMLResponse)
    async def change() -> str:
        changes.append("changed")
        return "<!doctype html><title>Endret</title><p>Endret</p>"

    app.add_middleware(CrossOriginGuard)
    app.add_middleware(SecurityHeaders)
    app.state.changes = changes
    return app


async def test_inline_style_and_script_are_blocked_and_reported(
    page: Page, serve_app: ServeApp, assert_accessible: AssertAccessible
) -> None:
    base = await serve_app(guarded_app())
    await page.goto(base + "/")
    colour = await page.eval_on_selector("h1", "h => getComputedStyle(h).color")
    assert colour != "rgb(255, 0, 0)", "the inline style was applied"
    assert await page.evaluate("() => document.body.dataset.ran") is None
    with pytest.raises(AssertionError, match="Content-Security-Policy blocked"):
        await assert_accessible(page)


async def test_a_form_on_another_site_cannot_post_to_us(
    new_page: NewPage, serve_app: ServeApp
) -> None:
    app = guarded_app()
    ours = await serve_app(app)
    # Another origin (another port is another origin) with a form aimed at our route.
    attacker = FastAPI()

    @attacker.get("/", response_class=HTMLResponse)
    async def lure() -> str:
        return (
            '<!doctype html><title>Vinn</title><form method="post" '
            f'action="{ours}/change"><button>Vinn en premie</button></form>'
        )

    theirs = await serve_app(attacker)
    page = await new_page()
    await page.goto(theirs + "/")
    async with page.expect_navigation():
        await page.click("button")
    assert "cross_site_refused" in await page.content()
    assert app.state.changes == []

    await page.goto(ours + "/")
    async with page.expect_navigation():
        await page.click("button")
    assert "Endret" in await page.content()
    assert app.state.changes == ["changed"]
