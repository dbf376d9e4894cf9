"""The browser's sign-in at the trust's OpenID provider (Entra ID, Keycloak): the
authorization code flow with PKCE (S256): the requests as Authlib writes them (RFC 6749
and 7636), sent with httpx. Every service
mounts the same routes (`create_service_app` does), and the session cookie they set is for
the whole origin, so one sign-in is a session at every service behind the proxy:

- `GET /signin?next=/survey/` sends the browser to the issuer's login page, with a fresh
  state, nonce and PKCE verifier kept in a short-lived cookie;
- `GET /signin/callback` checks the state against that cookie, redeems the code with the
  verifier, verifies the ID token (signature, issuer, audience, expiry, nonce: the same
  verifier as every request) and sets the session cookie (`sessions`);
- `POST /signout` (a form, CSRF-protected) ends the session, and where the issuer
  publishes an `end_session_endpoint`, ends it there too (RP-initiated logout, through a
  page that moves on to it) and comes back to `GET /signed-out`.

Settings: `oidc_issuer`, `oidc_client_id` (and a secret for a confidential client),
`oidc_scopes`, `oidc_employee_id_claim`, `public_origin`, `session_lifetime_s`; the
redirect URIs to register are `<origin>/<service>/signin/callback` and
`<origin>/<service>/signed-out` (README, "Connecting the trust's sign-in").
"""

import base64
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from forbedring_chassis.auth import InvalidToken, TokenVerifier
from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.discovery import Discovery, DiscoveryFailed, IssuerMetadata
from forbedring_chassis.errors import ServiceError
from forbedring_chassis.logging import get_logger
from forbedring_chassis.ratelimit import limit_signin
from forbedring_chassis.sessions import (
    SESSION_COOKIE,
    clear_session_cookie,
    cookie_secure,
    end_session,
    set_session_cookie,
)
from forbedring_chassis.settings import ServiceSettings
from forbedring_chassis.web.pages import Pages, public_root, render

log = get_logger(__name__)

FLOW_COOKIE: Final = "forbedring_signin"
FLOW_LIFETIME_S: Final = 600
CALLBACK_PATH: Final = "/signin/callback"
SIGNED_OUT_PATH: Final = "/signed-out"


class SignInFailed(ServiceError):
    status_code = 400
    code = "signin_failed"


class SignInUnavailable(ServiceError):
    status_code = 503
    code = "signin_unavailable"


class NoSignIn(ServiceError):
    status_code = 404
    code = "not_found"


@dataclass(frozen=True)
class Flow:
    """One sign-in under way, in the browser's own cookie (HttpOnly, ten minutes): the
    callback must come back with its state, so a code another browser obtained (login
    CSRF) is refused."""

    state: str
    verifier: str
    nonce: str
    next: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @classmethod
    def decode(cls, value: str | None) -> "Flow | None":
        if not value:
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(value.encode()))
            return cls(**{k: str(fields[k]) for k in ("state", "verifier", "nonce", "next")})
        except (ValueError, KeyError, TypeError):
            return None


def local_path(value: str | None, default: str) -> str:
    """Only a path on this origin is a place to return to (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def public_base(request: Request, settings: ServiceSettings) -> str:
    """This service's address as the browser sees it: origin plus the proxy's prefix."""
    origin = settings.public_origin or f"{request.url.scheme}://{request.url.netloc}"
    return origin.rstrip("/") + public_root(request)


class OidcSignIn:
    """The sign-in of one app: its settings, the issuer's discovery and the app's verifier."""

    def __init__(self, settings: ServiceSettings) -> None:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise ValueError("the browser sign-in needs oidc_issuer and oidc_client_id")
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.discovery = Discovery(settings.oidc_issuer)

    def authorization_url(self, metadata: IssuerMetadata, flow: Flow, redirect_uri: str) -> str:
        url: str = prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=self.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=self.settings.oidc_scopes,
            state=flow.state,
            nonce=flow.nonce,
            code_challenge=create_s256_code_challenge(flow.verifier),
            code_challenge_method="S256",
        )
        return url

    async def redeem(
        self, metadata: IssuerMetadata, *, code: str, verifier: str, redirect_uri: str
    ) -> dict[str, Any]:
        """The token endpoint's answer for `code`, proven by the PKCE verifier (and the
        secret, for a confidential client: client_secret_post)."""
        secret = self.settings.oidc_client_secret
        body: str = prepare_token_request(
            "authorization_code",
            redirect_uri=redirect_uri,
            code=code,
            code_verifier=verifier,
            client_id=self.client_id,
            client_secret=secret.get_secret_value() if secret else None,
        )
        async with httpx.AsyncClient(timeout=10.0) as client:
            reply = await client.post(
                metadata.token_endpoint,
                content=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
            )
        answer = reply.json()
        if reply.status_code != 200 or not isinstance(answer, dict) or "error" in answer:
            error = answer.get("error") if isinstance(answer, dict) else None
            raise ValueError(f"token endpoint: {reply.status_code} {error}")
        return answer

    async def metadata(self) -> IssuerMetadata:
        try:
            return await self.discovery.metadata()
        except DiscoveryFailed as exc:
            log.warning("signin.discovery_failed", issuer=self.issuer, error=str(exc))
            raise SignInUnavailable(
                "The sign-in service cannot be reached just now. Try again in a minute."
            ) from exc

    def start(self, request: Request, metadata: IssuerMetadata, next_path: str) -> Response:
        flow = Flow(
            state=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),  # 86 characters: RFC 7636 asks 43 to 128
            nonce=secrets.token_urlsafe(32),
            next=next_path,
        )
        redirect_uri = public_base(request, self.settings) + CALLBACK_PATH
        url = self.authorization_url(metadata, flow, redirect_uri)
        response = RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
        response.set_cookie(
            FLOW_COOKIE,
            flow.encode(),
            max_age=FLOW_LIFETIME_S,
            path="/",
            httponly=True,
            samesite="lax",  # it must come back on the issuer's redirect, a cross-site GET
            secure=cookie_secure(self.settings, request),
        )
        return response

    async def finish(
        self, request: Request, metadata: IssuerMetadata, *, code: str, state: str
    ) -> Response:
        flow = Flow.decode(request.cookies.get(FLOW_COOKIE))
        if flow is None or not secrets.compare_digest(flow.state.encode(), state.encode()):
            raise SignInFailed(
                "This sign-in was not started in this browser, or took too long. "
                "Start it again from the page you wanted."
            )
        redirect_uri = public_base(request, self.settings) + CALLBACK_PATH
        try:
            token = await self.redeem(
                metadata, code=code, verifier=flow.verifier, redirect_uri=redirect_uri
            )
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("signin.code_refused", issuer=self.issuer, error=str(exc))
            raise SignInFailed(
                "The sign-in service did not accept this sign-in. Try again."
            ) from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("The sign-in service sent no ID token: ask for the scope openid.")
        verifier: TokenVerifier = request.app.state.token_verifier
        try:
            principal = await verifier.verify(id_token, audiences=(self.client_id,))
        except InvalidToken as exc:
            log.warning("signin.id_token_refused", issuer=self.issuer, error=str(exc))
            raise SignInFailed(f"The sign-in could not be verified ({exc}).") from exc
        if principal.issuer != self.issuer or principal.claims.get("nonce") != flow.nonce:
            raise SignInFailed("The sign-in could not be verified (nonce). Try again.")
        response = RedirectResponse(flow.next, status_code=status.HTTP_303_SEE_OTHER)
        set_session_cookie(
            response,
            id_token,
            settings=self.settings,
            request=request,
            expires_at=float(principal.claims["exp"]),
        )
        response.delete_cookie(FLOW_COOKIE, path="/")
        log.info("signin.completed", issuer=self.issuer)
        return response

    def logout_url(self, request: Request, metadata: IssuerMetadata, id_token: str) -> str | None:
        """RP-initiated logout at the issuer, coming back to this service's signed-out page."""
        if metadata.end_session_endpoint is None:
            return None
        query = urlencode(
            {
                "id_token_hint": id_token,
                "client_id": self.client_id,
                "post_logout_redirect_uri": public_base(request, self.settings) + SIGNED_OUT_PATH,
            }
        )
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return f"{metadata.end_session_endpoint}{separator}{query}"


def signin_router(settings: ServiceSettings) -> APIRouter:
    """`/signin`, `/signin/callback`, `/signout` and `/signed-out` for this service. Without
    an issuer configured, `/signin` leads to the development sign-in where that is on."""
    router = APIRouter(tags=["sign-in"], include_in_schema=False)
    oidc = OidcSignIn(settings) if settings.oidc_issuer and settings.oidc_client_id else None
    limited = [Depends(limit_signin)]

    @router.get("/signin", name="signin", dependencies=limited)
    async def signin(request: Request, next: str | None = None) -> Response:
        target = local_path(next, public_root(request) + "/")
        if oidc is None:
            if settings.dev_issuer_enabled:
                login = f"{public_root(request)}/dev-login?{urlencode({'next': target})}"
                return RedirectResponse(login, status_code=status.HTTP_303_SEE_OTHER)
            raise NoSignIn("No sign-in is configured for this service.")
        return oidc.start(request, await oidc.metadata(), target)

    @router.get(CALLBACK_PATH, name="signin-callback", dependencies=limited)
    async def callback(
        request: Request,
        code: Annotated[str | None, Query(max_length=4096)] = None,
        state: Annotated[str | None, Query(max_length=512)] = None,
        error: Annotated[str | None, Query(max_length=256)] = None,
    ) -> Response:
        if oidc is None:
            raise NoSignIn("No sign-in is configured for this service.")
        if error is not None or code is None or state is None:
            # e.g. access_denied: the person cancelled, or may not use this system.
            raise SignInFailed(f"The sign-in did not complete ({error or 'no code'}).")
        return await oidc.finish(request, await oidc.metadata(), code=code, state=state)

    @router.post("/signout", name="signout", dependencies=[CsrfProtected])
    async def signout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        target = f"{public_root(request)}{SIGNED_OUT_PATH}"
        at_issuer: str | None = None
        verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
        if token and verifier is not None:
            try:
                principal = await verifier.verify(token, audiences=verifier.session_audiences)
            except InvalidToken:
                principal = None  # expired or foreign: nothing to end but the cookie
            if principal is not None:
                runtime = request.app.state.runtime
                await end_session(runtime.redis, token, expires_at=float(principal.claims["exp"]))
                if oidc is not None and principal.issuer == oidc.issuer:
                    try:
                        metadata = await oidc.discovery.metadata()
                    except DiscoveryFailed:
                        metadata = None  # ended here; the issuer's session ends on its own
                    if metadata is not None:
                        at_issuer = oidc.logout_url(request, metadata, token)
        response: Response
        if at_issuer is not None and isinstance(getattr(request.app.state, "pages", None), Pages):
            # A page that moves on to the issuer, not a redirect: the CSP's form-action
            # 'self' covers a form post's redirects, and the issuer is another origin.
            response = render(request, "chassis/signingout.html", {"logout_url": at_issuer})
        else:
            response = RedirectResponse(at_issuer or target, status_code=status.HTTP_303_SEE_OTHER)
        clear_session_cookie(response, settings=settings, request=request)
        return response

    @router.get(SIGNED_OUT_PATH, name="signed-out", response_class=HTMLResponse)
    async def signed_out(request: Request) -> Response:
        pages = getattr(request.app.state, "pages", None)
        if pages is None:
            return HTMLResponse("<!doctype html><title>Signed out</title><p>Signed out.</p>")
        return render(request, "chassis/signedout.html", {"signin_url": f"{public_root(request)}/"})

    return router
