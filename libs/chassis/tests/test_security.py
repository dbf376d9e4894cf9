"""The defence-in-depth middleware every service gets from `create_service_app`: the
security headers on every answer, and cross-site state changes refused."""

import httpx
import pytest
from fastapi.responses import HTMLResponse, PlainTextResponse

from forbedring_chassis.runtime import create_service_app
from forbedring_chassis.security import CONTENT_SECURITY_POLICY, DOCS_POLICY
from libs.chassis.tests.test_runtime import UNREACHABLE


@pytest.fixture
async def client() -> httpx.AsyncClient:
    app = create_service_app(settings=UNREACHABLE, package="forbedring_chassis")

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<h1>Ola Nordmann</h1>"

    @app.get("/static/site.css", response_class=PlainTextResponse)
    async def stylesheet() -> str:
        return "body {}"

    @app.post("/api/v1/things")
    async def change() -> dict[str, str]:
        return {"changed": "yes"}

    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="https://forbedring.example")


async def test_pages_and_api_answers_carry_the_security_headers_and_are_never_cached(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/page", "/healthz", "/no-such-route"):
        reply = await client.get(path)
        assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
        assert "'unsafe-inline'" not in reply.headers["content-security-policy"]
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["referrer-policy"] == "same-origin"
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["cache-control"] == "no-store", path


async def test_static_files_may_be_cached_and_the_api_docs_get_their_own_policy(
    client: httpx.AsyncClient,
) -> None:
    stylesheet = await client.get("/static/site.css")
    assert stylesheet.headers.get("cache-control") != "no-store"
    assert stylesheet.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == DOCS_POLICY
    assert (await client.get("/page")).headers["content-security-policy"] != DOCS_POLICY


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://other.forbedring.example"},
        {"Origin": "https://evil.example"},  # an older browser: no Sec-Fetch-Site
        {"Origin": "http://forbedring.example"},  # same host, another scheme
        {"Origin": "null"},  # a sandboxed frame or a redirect chain
    ],
)
async def test_a_state_change_another_site_asks_for_is_refused_in_the_one_error_shape(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    reply = await client.post("/api/v1/things", headers=headers)
    assert reply.status_code == 403
    assert reply.json()["detail"]["code"] == "cross_site_refused"
    assert "another site" in reply.json()["detail"]["message"]
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://forbedring.example"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar or a bookmark
        {"Origin": "https://forbedring.example"},
        {},  # not a browser (an API client with a bearer token): no cookie to abuse
        # behind the proxy, the browser's origin is the forwarded one
        {
            "Origin": "https://survey.sykehus.no",
            "X-Forwarded-Host": "survey.sykehus.no",
            "X-Forwarded-Proto": "https",
        },
    ],
)
async def test_a_state_change_from_the_same_origin_or_no_browser_goes_through(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    reply = await client.post("/api/v1/things", headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"changed": "yes"}


async def test_reading_is_never_refused_whichever_site_links_to_it(
    client: httpx.AsyncClient,
) -> None:
    reply = await client.get(
        "/page", headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    )
    assert reply.status_code == 200
