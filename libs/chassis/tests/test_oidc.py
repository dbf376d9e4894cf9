"""The browser sign-in (forbedring_chassis.oidc) against a small OpenID provider of the
test's own, served over HTTP, that checks what a real one checks (PKCE S256 against the
challenge, the redirect URI, the client): the keys' URL comes from discovery, the
employee id from the configured claim, a callback with another state is refused, the
cookies carry their flags, sign-out goes to the issuer's logout and the old cookie is
refused afterwards, and sign-in is rate limited. The real provider (Keycloak) is driven
through its own login page in tests/browser/test_oidc_signin.py."""

import asyncio
import html
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse
from redis.asyncio import Redis

from forbedring_chassis.auth import PrincipalDep, build_verifier
from forbedring_chassis.csrf import CSRF_COOKIE, CSRF_FIELD
from forbedring_chassis.errors import install_error_handlers
from forbedring_chassis.oidc import FLOW_COOKIE, signin_router
from forbedring_chassis.sessions import SESSION_COOKIE
from forbedring_chassis.settings import ServiceSettings
from forbedring_chassis.testing import Infrastructure, free_port, unique_name
from forbedring_chassis.web import Pages, install_pages

CLIENT_ID = "forbedring-web"
JWKS_PATH = "/discovery-named/keys"  # not <issuer>/.well-known/jwks.json: nothing guessed


class FakeProvider:
    """Discovery, keys, an authorization endpoint that signs anyone in at once, a token
    endpoint that checks the code's PKCE verifier, and a logout endpoint."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.issuer = ""
        self.codes: dict[str, dict[str, str]] = {}
        self.requests: list[str] = []
        self.employee_id: str | None = "E42"
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def sign(self, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "sub": "entra-object-id-1", "iat": now, "exp": now + 600}
        return jwt.encode({**body, **claims}, self.key, algorithm="RS256", headers={"kid": "k1"})

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            self.requests.append(request.url.path)
            return await call_next(request)

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, str]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}{JWKS_PATH}",
                "end_session_endpoint": f"{self.issuer}/logout",
            }

        @app.get(JWKS_PATH)
        async def keys() -> dict[str, Any]:
            return self.jwks

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            query = dict(request.query_params)
            code = secrets.token_urlsafe(16)
            self.codes[code] = query
            target = f"{query['redirect_uri']}?code={code}&state={query['state']}"
            return RedirectResponse(target, status_code=302)

        @app.post("/token")
        async def token(
            grant_type: str = Form(),
            code: str = Form(),
            redirect_uri: str = Form(),
            client_id: str = Form(),
            code_verifier: str = Form(),
        ) -> Any:
            asked = self.codes.pop(code, None)
            if (
                grant_type != "authorization_code"
                or asked is None
                or asked["client_id"] != client_id
                or asked["redirect_uri"] != redirect_uri
                or create_s256_code_challenge(code_verifier) != asked["code_challenge"]
            ):
                from fastapi.responses import JSONResponse

                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            claims = {"aud": CLIENT_ID, "nonce": asked["nonce"]}
            if self.employee_id is not None:
                claims["employeeid"] = self.employee_id
            return {
                "access_token": "opaque",
                "token_type": "Bearer",
                "id_token": self.sign(**claims),
            }

        return app


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the fake issuer stopped"
        assert time.monotonic() < deadline, "the fake issuer did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    with serving(fake.app()) as base:
        fake.issuer = base
        yield fake


def service_app(settings: ServiceSettings, redis: Redis) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_pages(app, Pages())
    app.include_router(signin_router(settings))
    app.state.token_verifier = build_verifier(settings)
    app.state.runtime = SimpleNamespace(settings=settings, redis=redis)

    @app.get("/whoami")
    async def whoami(principal: PrincipalDep) -> dict[str, str]:
        return {"employee_id": principal.subject}

    return app


@pytest.fixture
async def redis(infrastructure: Infrastructure) -> AsyncIterator[Redis]:
    client = Redis.from_url(infrastructure.redis_url)
    yield client
    await client.aclose()


def settings_for(provider: FakeProvider, **overrides: Any) -> ServiceSettings:
    return ServiceSettings(
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_employee_id_claim="employeeid",
        kafka_topic_prefix=unique_name("oidc") + ".",  # its own rate-limit count
        **overrides,
    )


def client_of(app: FastAPI, base_url: str = "http://app") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def sign_in(client: httpx.AsyncClient, next_path: str = "/results") -> httpx.Response:
    """Start, let the provider sign in at once, and come back: the callback's answer."""
    started = await client.get("/signin", params={"next": next_path})
    assert started.status_code == 303, started.text
    async with httpx.AsyncClient() as browser:
        at_issuer = await browser.get(started.headers["location"])
    assert at_issuer.status_code == 302
    back = urlsplit(at_issuer.headers["location"])
    return await client.get(f"{back.path}?{back.query}")


def set_cookie_header(reply: httpx.Response, name: str) -> str:
    found = [h for h in reply.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, reply.headers.get_list("set-cookie")
    return found[0]


async def test_sign_in_with_pkce_maps_the_employee_id_claim_and_signs_out_at_the_issuer(
    provider: FakeProvider, redis: Redis
) -> None:
    settings = settings_for(provider)
    async with client_of(service_app(settings, redis)) as client:
        started = await client.get("/signin", params={"next": "/results"})
        assert started.status_code == 303
        location = urlsplit(started.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == (
            f"{provider.issuer}/authorize"
        )
        asked = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert asked["response_type"] == "code"
        assert asked["client_id"] == CLIENT_ID
        assert asked["redirect_uri"] == "http://app/signin/callback"
        assert asked["code_challenge_method"] == "S256"
        assert len(asked["code_challenge"]) == 43  # base64url of a SHA-256 digest
        assert set(asked["scope"].split()) >= {"openid"}
        assert len(asked["state"]) >= 32
        assert len(asked["nonce"]) >= 32
        flow_cookie = set_cookie_header(started, FLOW_COOKIE).lower()
        assert "httponly" in flow_cookie
        assert "samesite=lax" in flow_cookie

        finished = await sign_in(client)
        assert finished.status_code == 303, finished.text
        assert finished.headers["location"] == "/results"
        # The keys came from the URL discovery named; no guessed path was asked for.
        assert JWKS_PATH in provider.requests
        assert "/.well-known/jwks.json" not in provider.requests
        me = await client.get("/whoami")
        assert me.status_code == 200, me.text
        assert me.json() == {"employee_id": "E42"}  # the employeeid claim, not sub

        client.cookies.set(CSRF_COOKIE, "t" * 43)
        old_session = client.cookies[SESSION_COOKIE]
        out = await client.post("/signout", data={CSRF_FIELD: "t" * 43})
        # A page that moves on to the issuer (a redirect would break the CSP's form-action).
        assert out.status_code == 200
        found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', out.text)
        assert found, out.text
        logout = urlsplit(html.unescape(found.group(1)))
        assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{provider.issuer}/logout"
        hint = {k: v[0] for k, v in parse_qs(logout.query).items()}
        assert hint["id_token_hint"] == old_session
        assert hint["post_logout_redirect_uri"] == "http://app/signed-out"
        assert hint["client_id"] == CLIENT_ID
        assert SESSION_COOKIE not in client.cookies
        # The signed-out session replayed is refused, though its token has not expired.
        replayed = await client.get(
            "/whoami", headers={"Cookie": f"{SESSION_COOKIE}={old_session}"}
        )
        assert replayed.status_code == 401
        assert "signed out" in replayed.json()["detail"]["message"]
        signed_out = await client.get("/signed-out")
        assert signed_out.status_code == 200


async def test_the_session_cookie_is_httponly_lax_secure_for_the_whole_origin_and_bounded(
    provider: FakeProvider, redis: Redis
) -> None:
    settings = settings_for(provider, environment="staging", session_lifetime_s=120)
    # Secure cookies go back over HTTPS only, as the proxy serves them outside development.
    async with client_of(service_app(settings, redis), "https://app") as client:
        finished = await sign_in(client)
        assert finished.status_code == 303, finished.text
        cookie = set_cookie_header(finished, SESSION_COOKIE).lower()
        for flag in ("httponly", "samesite=lax", "secure", "path=/;"):
            assert flag in cookie + ";", (flag, cookie)
        max_age = int(cookie.split("max-age=")[1].split(";")[0])
        assert 0 < max_age <= 120  # the setting, below the token's 600 s


async def test_a_callback_with_another_state_or_without_the_flow_cookie_is_refused(
    provider: FakeProvider, redis: Redis
) -> None:
    async with client_of(service_app(settings_for(provider), redis)) as client:
        started = await client.get("/signin")
        async with httpx.AsyncClient() as browser:
            at_issuer = await browser.get(started.headers["location"])
        code = parse_qs(urlsplit(at_issuer.headers["location"]).query)["code"][0]
        forged = await client.get("/signin/callback", params={"code": code, "state": "other"})
        assert forged.status_code == 400
        assert forged.json()["detail"]["code"] == "signin_failed"
        client.cookies.delete(FLOW_COOKIE)
        state = parse_qs(urlsplit(at_issuer.headers["location"]).query)["state"][0]
        no_flow = await client.get("/signin/callback", params={"code": code, "state": state})
        assert no_flow.status_code == 400
        assert SESSION_COOKIE not in client.cookies


async def test_a_token_without_the_employee_id_claim_is_refused(
    provider: FakeProvider, redis: Redis
) -> None:
    provider.employee_id = None
    try:
        async with client_of(service_app(settings_for(provider), redis)) as client:
            refused = await sign_in(client)
            assert refused.status_code == 400
            assert "employeeid" in refused.json()["detail"]["message"]
    finally:
        provider.employee_id = "E42"


async def test_api_bearer_tokens_use_the_employee_id_claim_and_the_api_audience(
    provider: FakeProvider, redis: Redis
) -> None:
    async with client_of(service_app(settings_for(provider), redis)) as client:
        token = provider.sign(aud="forbedring", employeeid="E7")
        me = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
        assert me.json() == {"employee_id": "E7"}
        # An ID token (for the sign-in's client) is a session, not an API token.
        id_token = provider.sign(aud=CLIENT_ID, employeeid="E7")
        api = await client.get("/whoami", headers={"Authorization": f"Bearer {id_token}"})
        assert api.status_code == 401
        no_claim = provider.sign(aud="forbedring")
        missing = await client.get("/whoami", headers={"Authorization": f"Bearer {no_claim}"})
        assert missing.status_code == 401


async def test_sign_in_is_rate_limited_per_address_with_retry_after(
    provider: FakeProvider, redis: Redis
) -> None:
    settings = settings_for(provider, signin_rate_limit_per_min=3)
    async with client_of(service_app(settings, redis)) as client:
        # A window boundary between the calls would reset the count: start early in one.
        if time.time() % 60 > 50:
            await asyncio.sleep(61 - time.time() % 60)
        for _ in range(3):
            assert (await client.get("/signin")).status_code == 303
        refused = await client.get("/signin/callback", params={"code": "c", "state": "s"})
        assert refused.status_code == 429
        assert refused.json()["detail"]["code"] == "too_many_requests"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
