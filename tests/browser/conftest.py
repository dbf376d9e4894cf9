"""Browser tests: Playwright driving the system's Chromium, with an axe-core check.

Fixtures:
  browser           one headless Chromium for the session (Debian's /usr/bin/chromium;
                    Playwright's own browser download does not work on these machines)
  new_page          await new_page(**context_options) → a Page in a fresh context (own cookies)
  page              a desktop-sized page; phone-sized ones come from new_page(viewport=…)
  serve_app         await serve_app(asgi_app) → base URL of the app under uvicorn on a free
                    localhost port, in a background thread, stopped after the test
  assert_accessible await assert_accessible(page): nothing blocked by the page's
                    Content-Security-Policy; inject axe-core, fail listing every violation
"""

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    async_playwright,
    expect,
)
from starlette.types import ASGIApp

from forbedring_chassis.auth import SESSION_COOKIE

CHROMIUM = Path(os.environ.get("FORBEDRING_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps calling Google services, which
# on these machines' closed network means a flood of failing connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# axe-core as shipped in the axe-playwright-python wheel (locked in uv.lock); only the
# script is used, the runner below is ours.
AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
SERVER_START_TIMEOUT_S = 10.0
# Every page records what its Content-Security-Policy blocked (an inline style or script
# the strict policy refuses is a page that looks or works wrong for its users).
CSP_VIOLATION_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI || "inline"} ${e.sample}`);
});
"""


# The async API on the session's event loop (pytest-asyncio, loop scope "session"): the
# sync API keeps a loop of its own marked as running, which breaks every async test that
# runs after it in the same session.
@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}). `make test` installs it; or run "
            "`deploy/local/infra.sh install` (as root), or `apt-get install -y chromium`. "
            "Playwright's own browser download does not work here.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path, playwright: Playwright) -> AsyncIterator[Browser]:
    # launch() gives every run a fresh temporary user-data dir, removed on close.
    browser = await playwright.chromium.launch(
        executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    await browser.close()


NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[NewPage]:
    contexts: list[BrowserContext] = []

    async def open_page(**context_options: Any) -> Page:
        context = await browser.new_context(**{"locale": "nb-NO", **context_options})
        context.set_default_timeout(10_000)
        await context.add_init_script(CSP_VIOLATION_RECORDER)
        contexts.append(context)
        return await context.new_page()

    yield open_page
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(new_page: NewPage) -> Page:
    return await new_page(viewport={"width": 1280, "height": 800})


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


ServeApp = Callable[[ASGIApp], Awaitable[str]]


@pytest.fixture
async def serve_app() -> AsyncIterator[ServeApp]:
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    async def serve(app: ASGIApp) -> str:
        sock = _free_socket()
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto")
        )
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
        )
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail(f"the test server on port {port} did not start", pytrace=False)
            await asyncio.sleep(0.02)
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, _ in running:
        server.should_exit = True
    for _, thread in running:
        await asyncio.to_thread(thread.join, 10)
        assert not thread.is_alive(), f"{thread.name} did not stop"


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (all its default rules, best practices included) on the page."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the browser's debugging protocol, which the page's
        # Content-Security-Policy does not govern (a script tag would be refused).
        await page.evaluate(AXE_SCRIPT)
    results: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation.get('impact')}): {violation['help']}"
            f" — {violation.get('helpUrl', '')}"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n        ")
            if summary:
                lines.append(f"        {summary}")
    return "\n".join(lines)


async def check_accessible(page: Page) -> None:
    blocked = await page.evaluate("() => window.__cspViolations || []")
    assert blocked == [], f"the Content-Security-Policy blocked on {page.url}: {blocked}"
    violations = await axe_violations(page)
    if violations:
        report = describe_violations(violations)
        print(f"axe-core found {len(violations)} violation(s) on {page.url}:\n{report}")
        raise AssertionError(
            f"axe-core: {len(violations)} accessibility violation(s) on {page.url}\n{report}"
        )


AssertAccessible = Callable[[Page], Awaitable[None]]


@pytest.fixture
def assert_accessible() -> AssertAccessible:
    """`await assert_accessible(page)`: no axe-core violations, or a list of them."""
    return check_accessible


# --- signing in ----------------------------------------------------------------------------


async def fill_dev_sign_in(page: Page, person: str) -> None:
    """On the development sign-in form: sign in as `person`, and be back where it leads."""
    await page.fill("#employee_id", person)
    await page.keyboard.press("Enter")
    await page.wait_for_url(lambda url: "dev-login" not in url)


async def dev_sign_in(page: Page, url: str, person: str) -> None:
    """Straight to the development sign-in at `url` (with its `next`)."""
    await page.goto(url)
    await fill_dev_sign_in(page, person)


async def sign_in_from(
    page: Page, start: str, person: str, *, check: AssertAccessible | None = None
) -> None:
    """From `start`, a page that asks to sign in (checked too if `check`), through its
    button and the development sign-in, back on `start`."""
    await page.goto(start)
    if check is not None:
        await expect(page.locator("main a.button")).to_be_visible()
        await check(page)
    await page.locator("main a.button").click()
    await fill_dev_sign_in(page, person)
    await page.wait_for_load_state()


async def add_session(page: Page, base: str, session: str) -> None:
    """Signed in by a session cookie (services built without the development sign-in)."""
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": base}])


async def dev_bearer(http: httpx.AsyncClient, person: str) -> dict[str, str]:
    """The API's header for `person`, from the development sign-in of `http`'s service."""
    login = await http.post("/dev-login", json={"employee_id": person})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}
