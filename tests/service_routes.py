"""Every route of every service, found from the app itself, and the ones anyone may call:
shared by the every-route test and the security suite (tests/security), so that a route
added later is checked by both without anyone remembering to."""

import importlib
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import Route

from forbedring_chassis.csrf import require_csrf
from forbedring_chassis.settings import ServiceSettings

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
    "/signin": "the start of the sign-in at the trust's issuer",
    "/signin/callback": "the issuer's redirect back, checked against the flow's state",
    "/signout": "signing out (a form: CSRF-checked), with or without a session",
    "/signed-out": "the page after signing out, shows nothing",
}
OPEN_PATTERNS = [re.compile(r"^/static/")]
# Posts outside /api/ that are not a page's form, and why they need no CSRF token.
NOT_FORMS = {
    "/dev-login": "the development sign-in's JSON post, for scripts and tests",
    "/unsubscribe/{token}": "one-click unsubscribe: mail clients post without a cookie",
}
SAMPLE = "1"  # a valid value for every path parameter, numeric ones too


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"forbedring_{service}.settings")
    return next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
    )


def routes_of(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path template, whether the CSRF check guards it) of every route, HEAD
    left out."""
    return sorted(set(_walk(app.routes, "", ())))


def _walk(routes: Any, prefix: str, inherited: tuple[Any, ...]) -> Iterator[tuple[str, str, bool]]:
    for route in routes:
        if isinstance(route, Route):  # APIRoute, and FastAPI's own: /docs, /openapi.json
            calls = {*inherited, *(d.dependency for d in getattr(route, "dependencies", ()))}
            if isinstance(route, APIRoute):
                calls |= set(_dependencies(route.dependant))
            for method in (route.methods or set()) - {"HEAD"}:
                yield method, prefix + route.path, require_csrf in calls
        elif (included := getattr(route, "original_router", None)) is not None:
            # an included router (FastAPI keeps it whole and resolves its routes lazily)
            context = route.include_context
            around = (*inherited, *(d.dependency for d in context.dependencies))
            around += tuple(d.dependency for d in included.dependencies)
            yield from _walk(included.routes, prefix + context.prefix, around)


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependencies(sub)


def is_open(path: str) -> bool:
    return path in OPEN or any(p.match(path) for p in OPEN_PATTERNS)


def is_static(path: str) -> bool:
    return any(p.match(path) for p in OPEN_PATTERNS)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", SAMPLE, path)
