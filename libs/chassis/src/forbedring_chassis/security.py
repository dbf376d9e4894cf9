"""Defence in depth for every service, as ASGI middleware (see docs/security.md):

- `SecurityHeaders`: a Content-Security-Policy with no inline script or style and
  `frame-ancestors 'none'`, nosniff, a Referrer-Policy, and `Cache-Control: no-store` on
  everything but static files, since pages and API answers carry personal data;
- `CrossOriginGuard`: refuses a state-changing request that a browser marks as coming from
  another site (the `Sec-Fetch-Site` or `Origin` header), on top of the SameSite cookie. A
  request with neither header is not from a browser, so it cannot carry a victim's cookie
  unawares; API clients (bearer tokens) are not affected.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forbedring_chassis.errors import ServiceError

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's interactive API documentation loads Swagger UI from a CDN with an inline
# bootstrap script; only those two pages get this policy.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _ends_with_any(path: str, suffixes: Iterable[str]) -> bool:
    return any(path.endswith(s) for s in suffixes)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        static = "/static/" in path

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                policy = DOCS_POLICY if _ends_with_any(path, DOCS_PATHS) else None
                headers.setdefault("Content-Security-Policy", policy or CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _origin_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _request_origin(headers: Headers, scope: Scope) -> tuple[str, str]:
    """This request's own origin as the browser sees it (behind the proxy: the forwarded
    scheme and host, which uvicorn's proxy-headers support already applied to the scope)."""
    host = headers.get("x-forwarded-host") or headers.get("host", "")
    scheme = headers.get("x-forwarded-proto") or scope.get("scheme", "http")
    return scheme.split(",")[0].strip().lower(), host.split(",")[0].strip().lower()


def is_cross_site(method: str, headers: Headers, scope: Scope) -> bool:
    """True when a browser says this state-changing request comes from another origin."""
    if method.upper() in SAFE_METHODS:
        return False
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return False  # not a browser: no ambient cookie to abuse
    if origin == "null":
        return True
    return _origin_of(origin) != _request_origin(headers, scope)


class CrossSiteRefused(ServiceError):
    status_code = 403
    code = "cross_site_refused"


class CrossOriginGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            if is_cross_site(scope["method"], headers, scope):
                error = CrossSiteRefused(
                    "This request came from another site and was refused. "
                    "Open the page in Forbedring itself and try again."
                )
                refused = JSONResponse(error.body(), status_code=error.status_code)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
