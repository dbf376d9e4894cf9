"""OpenID Connect sign-in: JWT bearer tokens (or a session cookie holding the same token)
validated against the issuer's JWKS.

Production: Entra ID or Keycloak (`oidc_issuer`, `oidc_audience`; the keys' URL from the
issuer's discovery document unless `oidc_jwks_url` says otherwise); the browser signs in
through `forbedring_chassis.oidc`. Development: `DevelopmentIssuer` signs RS256 tokens for
any employee id and publishes its JWKS; a service mounts `development_issuer_router` only when
`dev_issuer_enabled` is set, which the settings refuse in an environment named like
production.

The token says who the caller is (the employee id, in the claim `oidc_employee_id_claim`
names: `sub` by default) and nothing more that we trust:
roles are looked up by each service in its own copy of the directory, never read from
the token.
"""

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.discovery import Discovery, DiscoveryFailed
from forbedring_chassis.ratelimit import limit_signin
from forbedring_chassis.sessions import SESSION_COOKIE, has_ended, set_session_cookie
from forbedring_chassis.settings import ServiceSettings

__all__ = ["SESSION_COOKIE"]
ALGORITHMS = ("RS256", "PS256", "ES256")


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by a trusted issuer."""


@dataclass(frozen=True)
class Principal:
    """Who made the request: `subject` is the employee id (the issuer's employee-id claim)."""

    subject: str
    issuer: str
    claims: Mapping[str, Any] = field(repr=False)


class KeySource(Protocol):
    async def key(self, kid: str | None) -> jwt.PyJWK: ...


def _pick(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    for key in keys.keys:
        if kid is None or key.key_id == kid:
            return key
    return None


class StaticKeys:
    """Keys known in-process (the development issuer's own)."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = jwt.PyJWKSet.from_dict(dict(jwks))

    async def key(self, kid: str | None) -> jwt.PyJWK:
        found = _pick(self._keys, kid)
        if found is None:
            raise InvalidToken("unknown signing key")
        return found


class RemoteJwks:
    """An issuer's JWKS fetched over HTTPS, cached, refetched when a new `kid` appears
    (key rotation) but at most every `min_refresh_s`."""

    def __init__(self, url: str, *, ttl_s: float = 3600.0, min_refresh_s: float = 30.0) -> None:
        self._url = url
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_s
        self._keys: jwt.PyJWKSet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self, *, force: bool) -> jwt.PyJWKSet:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            fresh = self._keys is not None and age < self._ttl_s
            if self._keys is not None and ((fresh and not force) or age < self._min_refresh_s):
                return self._keys
            try:
                url = await self._jwks_url()
                async with httpx.AsyncClient(timeout=5.0) as client:
                    reply = await client.get(url)
                    reply.raise_for_status()
                    self._keys = jwt.PyJWKSet.from_dict(reply.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWKSetError, DiscoveryFailed) as exc:
                if self._keys is None:
                    raise InvalidToken(f"issuer keys unavailable: {type(exc).__name__}") from exc
                return self._keys
            self._fetched_at = time.monotonic()
            return self._keys

    async def _jwks_url(self) -> str:
        return self._url

    async def key(self, kid: str | None) -> jwt.PyJWK:
        found = _pick(await self._refresh(force=False), kid)
        if found is None:
            found = _pick(await self._refresh(force=True), kid)
        if found is None:
            raise InvalidToken("unknown signing key")
        return found


class DiscoveredJwks(RemoteJwks):
    """The JWKS at the `jwks_uri` the issuer's discovery document names."""

    def __init__(self, discovery: Discovery) -> None:
        super().__init__(discovery.url)
        self._discovery = discovery

    async def _jwks_url(self) -> str:
        return (await self._discovery.metadata()).jwks_uri


@dataclass(frozen=True)
class TrustedIssuer:
    keys: KeySource
    employee_id_claim: str = "sub"
    """The claim holding the employee id: Entra ID's `sub` is not the HR system's id."""


class TokenVerifier:
    """Accepts tokens from the configured issuers only, for `audience`, unexpired. A
    browser session's token (an ID token) may instead be for one of `session_audiences`
    (the sign-in's client id)."""

    def __init__(
        self,
        *,
        issuers: Mapping[str, KeySource | TrustedIssuer],
        audience: str,
        session_audiences: tuple[str, ...] = (),
        leeway_s: float = 30.0,
    ) -> None:
        self._issuers = {
            name: trusted if isinstance(trusted, TrustedIssuer) else TrustedIssuer(trusted)
            for name, trusted in issuers.items()
        }
        self._audience = audience
        self.session_audiences = tuple(dict.fromkeys((audience, *session_audiences)))
        self._leeway_s = leeway_s

    async def verify(self, token: str, *, audiences: tuple[str, ...] | None = None) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            raise InvalidToken("untrusted issuer")
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("unsupported signing algorithm")
        trusted = self._issuers[issuer]
        key = await trusted.keys.key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(ALGORITHMS),
                audience=list(audiences or (self._audience,)),
                issuer=issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        subject = claims.get(trusted.employee_id_claim)
        if not isinstance(subject, str) or not subject:
            raise InvalidToken(f"no employee id (claim {trusted.employee_id_claim!r})")
        return Principal(subject=subject, issuer=issuer, claims=claims)


class DevelopmentIssuer:
    """Signs RS256 tokens for any subject. For development and tests only."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        private_key_pem: str | None = None,
        lifetime: timedelta = timedelta(hours=8),
    ) -> None:
        if private_key_pem:
            loaded = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError("the development issuer needs an RSA private key")
            self._private = loaded
        else:
            self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        public_jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(
            self._private.public_key(), as_dict=True
        )
        self._kid = jwt.PyJWK.from_dict(public_jwk).key_id or _thumbprint(public_jwk)
        self._jwks = {"keys": [{**public_jwk, "kid": self._kid, "use": "sig", "alg": "RS256"}]}

    def jwks(self) -> dict[str, Any]:
        return self._jwks

    def keys(self) -> StaticKeys:
        return StaticKeys(self._jwks)

    def issue(self, subject: str, *, now: datetime | None = None) -> str:
        moment = now or datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": int(moment.timestamp()),
            "exp": int((moment + self.lifetime).timestamp()),
        }
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self._kid})


def _thumbprint(jwk: Mapping[str, Any]) -> str:
    import hashlib
    import json

    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def build_verifier(
    settings: ServiceSettings, *, development: DevelopmentIssuer | None = None
) -> TokenVerifier:
    """The verifier for `settings`: the production issuer if configured, plus the
    development issuer when one is given (only ever when `dev_issuer_enabled`)."""
    issuers: dict[str, KeySource | TrustedIssuer] = {}
    if settings.oidc_issuer:
        keys: KeySource = (
            RemoteJwks(settings.oidc_jwks_url)
            if settings.oidc_jwks_url
            else DiscoveredJwks(Discovery(settings.oidc_issuer))
        )
        issuers[settings.oidc_issuer] = TrustedIssuer(keys, settings.oidc_employee_id_claim)
    if development is not None:
        if not settings.dev_issuer_enabled:
            raise ValueError("a development issuer is only allowed with dev_issuer_enabled")
        issuers[development.issuer] = development.keys()
    return TokenVerifier(
        issuers=issuers,
        audience=settings.oidc_audience,
        session_audiences=(settings.oidc_client_id,) if settings.oidc_client_id else (),
    )


def development_issuer(settings: ServiceSettings) -> DevelopmentIssuer | None:
    """The development issuer, or None unless `dev_issuer_enabled`."""
    if not settings.dev_issuer_enabled:
        return None
    key = settings.dev_issuer_private_key
    pem = key.get_secret_value() if key else None
    if pem is None and settings.dev_issuer_private_key_file is not None:
        pem = settings.dev_issuer_private_key_file.read_text()
    return DevelopmentIssuer(
        issuer=settings.dev_issuer_url, audience=settings.oidc_audience, private_key_pem=pem
    )


# --- FastAPI -------------------------------------------------------------------------------


def _token_of(request: Request) -> tuple[str | None, bool]:
    """The token, and whether it is the browser session's cookie."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip(), False
        return None, False
    return request.cookies.get(SESSION_COOKIE), True


async def current_principal(request: Request) -> Principal:
    """The signed-in caller, or 401. The app's verifier is `app.state.token_verifier`."""
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    token, from_cookie = _token_of(request)
    if verifier is None or token is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Sign in first: send an OpenID Connect token as 'Authorization: Bearer'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        if not from_cookie:
            return await verifier.verify(token)
        principal = await verifier.verify(token, audiences=verifier.session_audiences)
        runtime = getattr(request.app.state, "runtime", None)
        if runtime is not None and await has_ended(runtime.redis, token):
            raise InvalidToken("signed out")
        return principal
    except InvalidToken as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"The sign-in token is not valid ({exc}); sign in again.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc


PrincipalDep = Annotated[Principal, Depends(current_principal)]


class DevLogin(BaseModel):
    employee_id: str = Field(min_length=1, max_length=64)


class DevToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class DevSignInRefused(RuntimeError):
    """The development sign-in did not hand out a token."""


class DevelopmentSignIns:
    """Bearer headers from a service's development sign-in (`POST /dev-login`), one token
    per person, kept: the demo's loaders and the tests act as many people in turn."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._tokens: dict[str, str] = {}

    async def headers(self, person_id: str) -> dict[str, str]:
        token = self._tokens.get(person_id)
        if token is None:
            reply = await self._http.post("/dev-login", json={"employee_id": person_id})
            if reply.status_code != 200:
                raise DevSignInRefused(
                    f"dev-login as {person_id}: {reply.status_code} {reply.text}"
                )
            token = self._tokens[person_id] = str(reply.json()["access_token"])
        return {"Authorization": f"Bearer {token}"}


def _on_site(path: str) -> str:
    """`path` if it stays on this site, else the root (no redirect elsewhere)."""
    return path if path.startswith("/") and not path.startswith("//") else "/"


def development_issuer_router(issuer: DevelopmentIssuer) -> APIRouter:
    """`/dev-login` (JSON, and a page in the shared look and the reader's language) and
    `/.well-known/jwks.json`."""
    router = APIRouter(tags=["development sign-in"])
    lifetime_s = int(issuer.lifetime.total_seconds())

    @router.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return issuer.jwks()

    # The JSON sign-in is not limited: tests and the demo mint tokens for hundreds of people
    # with it, and it exists only where anyone may sign in as anyone anyway.
    limited = [Depends(limit_signin)]

    @router.post("/dev-login")
    async def dev_login(body: DevLogin) -> DevToken:
        return DevToken(access_token=issuer.issue(body.employee_id), expires_in=lifetime_s)

    @router.get("/dev-login", response_class=HTMLResponse)
    async def dev_login_form(request: Request, next: str = "/") -> HTMLResponse:
        from forbedring_chassis.web.pages import render  # the pages import this module

        return render(request, "chassis/devlogin.html", {"next": _on_site(next)})

    @router.post("/dev-login/form", dependencies=[*limited, CsrfProtected])
    async def dev_login_submit(
        request: Request,
        employee_id: Annotated[str, Form(min_length=1, max_length=64)],
        next: Annotated[str, Form()] = "/",
    ) -> RedirectResponse:
        response = RedirectResponse(_on_site(next), status_code=status.HTTP_303_SEE_OTHER)
        token = issuer.issue(employee_id)
        expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
        settings: ServiceSettings = request.app.state.runtime.settings
        set_session_cookie(
            response, token, settings=settings, request=request, expires_at=expires_at
        )
        return response

    return router
