"""Every route that needs a sign-in, at every service, refuses each forged or flawed token
(`tokens.REFUSED`) with 401, both as `Authorization: Bearer` and as the session cookie
(which, in `forbedring_chassis.sessions`, holds the issuer's signed token itself): the
JSON API in the chassis's one error shape, a page with its sign-in page. The same token
without the flaw is accepted on the same route, so a refusal is the flaw's doing."""

from typing import Any

import httpx
import pytest

from forbedring_chassis.csrf import CSRF_COOKIE, CSRF_FIELD
from forbedring_chassis.sessions import SESSION_COOKIE
from tests.security import tokens
from tests.security.conftest import Results, Stack
from tests.service_routes import SERVICES, concrete, is_open, routes_of

pytestmark = pytest.mark.timeout(900)
CARRIERS = ("header", "cookie")
CSRF_PAIR = "t" * 43


def carrying(token: str, carrier: str) -> dict[str, str]:
    if carrier == "header":
        return {"Authorization": f"Bearer {token}"}
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


async def call(
    client: httpx.AsyncClient, method: str, path: str, token: str, carrier: str
) -> httpx.Response:
    # Same-origin, as the browser marks a post from our own page, so the cross-site guard
    # lets it through to the sign-in check; a page's form post with a matching CSRF pair,
    # so the CSRF check does too.
    headers = {**carrying(token, carrier), "Sec-Fetch-Site": "same-origin"}
    if method == "POST" and not path.startswith("/api/"):
        headers["Cookie"] = "; ".join(
            c for c in (headers.get("Cookie"), f"{CSRF_COOKIE}={CSRF_PAIR}") if c
        )
        return await client.post(concrete(path), data={CSRF_FIELD: CSRF_PAIR}, headers=headers)
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, concrete(path), json=body, headers=headers)


def refused_properly(path: str, reply: httpx.Response) -> str | None:
    """Why `reply` is not a proper refusal, or None."""
    if reply.status_code in (302, 303, 307) and reply.headers.get("location", "").startswith("/"):
        return None  # a redirect within the service shows nothing; its target is checked
    if reply.status_code != 401:
        return f"{reply.status_code}, not 401"
    if path.startswith("/api/"):
        detail = reply.json().get("detail")
        if not isinstance(detail, dict) or detail.get("code") != "unauthorized":
            return f"not the one error shape: {reply.text[:120]}"
        if not isinstance(detail.get("message"), str):
            return f"no message: {reply.text[:120]}"
    return None


@pytest.mark.parametrize("service", SERVICES)
async def test_every_protected_route_refuses_every_flawed_token(
    stack: Stack, service: str, results: Results
) -> None:
    running = stack.services[service]
    protected = [(m, p) for m, p, _ in routes_of(running.app) if not is_open(p)]
    assert protected, f"{service} has routes that need a sign-in"
    problems: list[str] = []
    for carrier in CARRIERS:
        control = tokens.valid()
        for method, path in protected:
            reply = await call(running.client, method, path, control, carrier)
            if reply.status_code == 401:
                problems.append(f"control {carrier} {method} {path}: the valid token refused")
        for attack, forge in tokens.REFUSED.items():
            token = forge()
            refused = 0
            for method, path in protected:
                reply = await call(running.client, method, path, token, carrier)
                why = refused_properly(path, reply)
                if why is None:
                    refused += 1
                else:
                    problems.append(f"{attack} as {carrier}: {method} {path}: {why}")
            results.record(
                "refused_tokens",
                service=service,
                attack=attack,
                carrier=carrier,
                routes=len(protected),
                refused=refused,
            )
    assert problems == [], "\n".join(problems)
