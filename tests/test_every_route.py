"""Every route of every service, on the real infrastructure: each answer carries the
security headers, and every route that shows or changes anything refuses an anonymous
caller (401; a page answers with its sign-in page). The exceptions are listed, each with
why, and a route added later is checked without anyone remembering to."""

import importlib
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.routing import Route

from forbedring_chassis.security import CONTENT_SECURITY_POLICY, DOCS_POLICY
from forbedring_chassis.settings import ServiceSettings
from forbedring_chassis.testing import Databases, Infrastructure, unique_name

SERVICES = ("survey", "aggregation", "publication", "actionplan", "notification")
# Routes anyone may call, and why.
OPEN = {
    "/healthz": "liveness, shows nothing",
    "/readyz": "readiness, shows nothing",
    "/.well-known/jwks.json": "the development issuer's public keys",
    "/dev-login": "the development sign-in itself (only with dev_issuer_enabled)",
    "/dev-login/form": "the development sign-in form's post",
    "/openapi.json": "the API's description, no data",
    "/docs": "the API's documentation page",
    "/docs/oauth2-redirect": "Swagger UI's sign-in callback",
    "/redoc": "the API's documentation page",
    "/unsubscribe/{token}": "one-click unsubscribe: the signed token in the link is the "
    "authorisation (RFC 8058: mail clients post without a session)",
    "/unsubscribe/{token}/resubscribe": "undoing it, with the same signed token",
}
OPEN_PATTERNS = [re.compile(r"^/static/")]
SAMPLE = "1"  # a valid value for every path parameter, numeric ones too


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"forbedring_{service}.settings")
    return next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
    )


@pytest.fixture(params=SERVICES)
async def service(
    request: pytest.FixtureRequest,
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    name = str(request.param)
    settings = settings_class(name).model_validate(
        {
            "database_url": await databases.create(name),
            **infrastructure.connections(private_topic_prefix),
            "consumer_group": unique_name(name),
            "dev_issuer_enabled": True,
        }
    )
    app: FastAPI = importlib.import_module(f"forbedring_{name}.app").create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
            yield app, client


def routes_of(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(set(_walk(app.routes, "")))


def _walk(routes: Any, prefix: str) -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Route):  # APIRoute, and FastAPI's own: /docs, /openapi.json
            for method in (route.methods or set()) - {"HEAD"}:
                yield method, prefix + route.path
        elif (included := getattr(route, "original_router", None)) is not None:
            # an included router (FastAPI keeps it whole and resolves its routes lazily)
            yield from _walk(included.routes, prefix + route.include_context.prefix)


def is_open(path: str) -> bool:
    return path in OPEN or any(p.match(path) for p in OPEN_PATTERNS)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", SAMPLE, path)


async def test_every_route_refuses_anonymous_callers_and_sends_the_security_headers(
    service: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = service
    routes = routes_of(app)
    assert len(routes) > 3, "the service's routes were found"
    problems: list[str] = []
    checked = 0
    for method, path in routes:
        body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
        reply = await client.request(method, concrete(path), json=body)
        policy = reply.headers.get("content-security-policy")
        expected = DOCS_POLICY if path in ("/docs", "/redoc") else CONTENT_SECURITY_POLICY
        if policy != expected:
            problems.append(f"{method} {path}: Content-Security-Policy {policy!r}")
        static = any(p.match(path) for p in OPEN_PATTERNS)
        for header, value in (
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
            ("cache-control", None if static else "no-store"),
        ):
            if value is not None and reply.headers.get(header) != value:
                problems.append(f"{method} {path}: {header} {reply.headers.get(header)!r}")
        if is_open(path):
            continue
        checked += 1
        if reply.status_code in (302, 303, 307) and reply.headers["location"].startswith("/"):
            continue  # a redirect within the service shows nothing; its target is checked
        if reply.status_code != 401:
            problems.append(f"{method} {path}: anonymous got {reply.status_code}, not 401")
        elif path.startswith("/api/") and reply.json()["detail"]["code"] != "unauthorized":
            problems.append(f"{method} {path}: not the one error shape: {reply.text[:120]}")
    assert checked > 0
    assert problems == [], "\n".join(problems)
