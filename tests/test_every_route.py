"""Every route of every service, on the real infrastructure: each answer carries the
security headers, and every route that shows or changes anything refuses an anonymous
caller (401; a page answers with its sign-in page), and every form post refuses a post
without the CSRF token (403 in the one error shape) and takes one with it. The exceptions
are listed, each with why, and a route added later is checked without anyone remembering
to."""

import importlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from forbedring_chassis.csrf import CSRF_COOKIE, CSRF_FIELD
from forbedring_chassis.security import CONTENT_SECURITY_POLICY, DOCS_POLICY
from forbedring_chassis.testing import Databases, Infrastructure, unique_name
from tests.service_routes import (
    NOT_FORMS,
    SERVICES,
    concrete,
    is_open,
    is_static,
    routes_of,
    settings_class,
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


async def test_every_route_refuses_anonymous_callers_and_sends_the_security_headers(
    service: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = service
    routes = routes_of(app)
    assert len(routes) > 3, "the service's routes were found"
    problems: list[str] = []
    checked = 0
    forms = 0
    for method, path, csrf in routes:
        body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
        reply = await client.request(method, concrete(path), json=body)
        if method == "POST" and not path.startswith("/api/") and path not in NOT_FORMS:
            forms += 1
            if not csrf:
                problems.append(f"{method} {path}: a form post without the CSRF check")
            elif reply.status_code != 403 or reply.json()["detail"]["code"] != "csrf_refused":
                problems.append(f"{method} {path}: without a CSRF token: {reply.status_code}")
            # With the token the post goes past the check: on to the sign-in's answer.
            token = "t" * 43
            reply = await client.post(
                concrete(path),
                data={CSRF_FIELD: token},
                headers={"Cookie": f"{CSRF_COOKIE}={token}"},
            )
            if reply.status_code == 403:
                problems.append(f"{method} {path}: refused with the CSRF token: {reply.text[:120]}")
        policy = reply.headers.get("content-security-policy")
        expected = DOCS_POLICY if path in ("/docs", "/redoc") else CONTENT_SECURITY_POLICY
        if policy != expected:
            problems.append(f"{method} {path}: Content-Security-Policy {policy!r}")
        static = is_static(path)
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
    assert forms > 0, "every service has a form post (/signout at least)"
    assert problems == [], "\n".join(problems)
