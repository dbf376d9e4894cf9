"""The production sign-in end to end in Chromium, against a real OpenID provider started
by the test (Keycloak, tests/oidc): survey and publication behind one origin (an in-test
proxy that strips each prefix, as nginx does); a person signs in on Keycloak's own login
page, is the directory's person at survey (the employee id from the `employeeid` claim),
goes on to publication through the header's navigation without signing in again, signs
out (RP-initiated logout at Keycloak, back to the signed-out page), and the old session
cookie replayed afterwards is refused by both services. axe-core and the page's
Content-Security-Policy find nothing on our pages."""

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from playwright.async_api import Page, expect
from starlette.types import ASGIApp, Receive, Scope, Send

from forbedring_chassis.sessions import SESSION_COOKIE
from forbedring_chassis.testing import Databases, Infrastructure, unique_name
from forbedring_publication.app import create_app as create_publication
from forbedring_publication.settings import PublicationSettings
from forbedring_survey.app import create_app as create_survey
from forbedring_survey.settings import SurveySettings
from forbedring_survey.testing import HR_ADMIN, SurveyApi, small_organisation
from tests.oidc.keycloak import CLIENT_ID, Keycloak, running_keycloak, users

AssertAccessible = Callable[[Page], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]
START_TIMEOUT_S = 180.0  # two services' migrations and consumers on a loaded machine


@dataclass(frozen=True)
class Provider:
    keycloak: Keycloak
    origin: str
    port: int


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    """Keycloak, once per session, for an origin whose port the test then serves on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"
    with running_keycloak(origin) as keycloak:
        yield Provider(keycloak, origin, port)


class OneOrigin:
    """The proxy: /<service>/… to that service with the prefix stripped and named in
    X-Forwarded-Prefix; starts and stops the services' lifespans with its own."""

    def __init__(self, services: dict[str, ASGIApp]) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            async with AsyncExitStack() as stack:
                for app in self.services.values():
                    await stack.enter_async_context(
                        LifespanManager(app, startup_timeout=START_TIMEOUT_S, shutdown_timeout=60)
                    )
                await send({"type": "lifespan.startup.complete"})
                await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        for name, app in self.services.items():
            prefix = f"/{name}"
            if path.startswith(prefix + "/"):
                inner = path[len(prefix) :]
                headers = [*scope["headers"], (b"x-forwarded-prefix", prefix.encode())]
                await app(
                    {**scope, "path": inner, "raw_path": inner.encode(), "headers": headers},
                    receive,
                    send,
                )
                return
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"no such service"})


def serve_on(app: ASGIApp, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
async def stack(
    provider: Provider,
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
) -> AsyncIterator[str]:
    """survey and publication under the provider's origin, signing in at Keycloak; the
    Keycloak users are people of the survey's directory (employee ids = their attribute)."""
    oidc: dict[str, Any] = {
        "oidc_issuer": provider.keycloak.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_employee_id_claim": "employeeid",
        **infrastructure.connections(private_topic_prefix),
    }
    survey = SurveySettings(
        database_url=await databases.create("survey"),
        # The test's own setup (periods, the directory) goes through survey's API as HR.
        dev_issuer_enabled=True,
        hr_admins=[HR_ADMIN],
        scheduler_interval_s=0.1,
        **oidc,
    )
    publication = PublicationSettings(
        database_url=await databases.create("publication"),
        consumer_group=unique_name("publication"),
        **oidc,
    )
    proxy = OneOrigin(
        {"survey": create_survey(survey), "publication": create_publication(publication)}
    )
    server, thread = serve_on(proxy, provider.port)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the services behind the test proxy did not start", pytrace=False)
            await asyncio.sleep(0.1)
        organisation = small_organisation({"A": 3})
        for person in users():
            organisation["people"].append(
                {
                    "employee_id": person.employee_id,
                    "name": person.name,
                    "email": f"{person.username}@example.org",
                    "language": "nb",
                }
            )
            organisation["assignments"].append(
                {"employee_id": person.employee_id, "unit_id": "A", "position_percent": 100}
            )
        async with httpx.AsyncClient(base_url=f"{provider.origin}/survey", timeout=30) as http:
            await SurveyApi(http).open_period(organisation, timeout=60)
        yield provider.origin
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 60)


async def session_cookie(page: Page) -> str:
    found = [c for c in await page.context.cookies() if c.get("name") == SESSION_COOKIE]
    return str(found[0]["value"]) if found else ""


# Keycloak's first start in a session takes minutes on a loaded machine.
@pytest.mark.timeout(1800)
async def test_sign_in_at_keycloak_use_two_services_sign_out_and_the_old_session_is_refused(
    stack: str, new_page: NewPage, assert_accessible: AssertAccessible
) -> None:
    person = users()[0]
    page = await new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(60_000)  # Keycloak's pages take their time on a loaded machine
    await page.goto(f"{stack}/survey/?lang=nb")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Logg inn")
    await assert_accessible(page)
    await page.locator("main a.button").click()

    # Keycloak's own login page, for the trust's password.
    await page.wait_for_url(lambda url: "/realms/forbedring/" in url)
    await page.fill("#username", person.username)
    await page.fill("#password", person.password)
    await page.click("#kc-login")
    await page.wait_for_url(lambda url: url.startswith(f"{stack}/survey/"))
    await expect(page.locator(".site-person")).to_have_text(person.name)
    cookie = next(c for c in await page.context.cookies() if c.get("name") == SESSION_COOKIE)
    assert cookie.get("httpOnly") is True
    assert cookie.get("sameSite") == "Lax"
    assert cookie.get("path") == "/"
    await assert_accessible(page)
    old_session = await session_cookie(page)

    # The same session at the other service, through the shared navigation.
    await page.locator(".site-nav a", has_text="Resultater").click()
    await page.wait_for_url(f"{stack}/publication/")
    await expect(page.get_by_role("heading", level=1)).not_to_have_text("Logg inn")
    await expect(page.locator(".site-signout button")).to_be_visible()
    await assert_accessible(page)

    # Sign-out ends the session here and at Keycloak, and comes back to our page.
    await page.locator(".site-signout button").click()
    try:
        await page.wait_for_url(
            lambda url: url.startswith(f"{stack}/publication/signed-out"), timeout=60_000
        )
    except Exception as error:
        text = await page.locator("body").inner_text()
        raise AssertionError(f"sign-out ended at {page.url}: {text[:500]}") from error
    await expect(page.get_by_role("heading", level=1)).to_have_text("Du er logget ut")
    await assert_accessible(page)
    assert await session_cookie(page) == ""

    # The old cookie replayed is refused by every service.
    async with httpx.AsyncClient(base_url=stack, timeout=30) as http:
        for path in ("/survey/", "/publication/"):
            replayed = await http.get(path, headers={"Cookie": f"{SESSION_COOKIE}={old_session}"})
            assert replayed.status_code == 401, (path, replayed.status_code)
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": old_session, "url": stack}])
    await page.goto(f"{stack}/survey/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Logg inn")

    # Keycloak's session ended too: signing in again asks for the password again.
    await page.locator("main a.button").click()
    await page.wait_for_url(lambda url: "/realms/forbedring/" in url)
    await expect(page.locator("#password")).to_be_visible()
