"""The browser session: a cookie holding the issuer's signed token, for the whole origin
(path "/"), so one sign-in is a session at every service behind the proxy. Each service
verifies it as it verifies a bearer token (`auth.current_principal`).

A token stays valid until it expires, so signing out also records the token as ended in
Redis, which every service reads: the same cookie replayed afterwards is refused. When
Redis cannot be reached the record is not read and the token is taken as its signature
and expiry say (logged; see docs/security.md), as the rate limits do.
"""

import hashlib
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from forbedring_chassis.logging import get_logger
from forbedring_chassis.settings import ServiceSettings

log = get_logger(__name__)

SESSION_COOKIE = "forbedring_session"
_ENDED = "session:ended:"


def _key(token: str) -> str:
    # A digest, not the token: Redis never holds a usable credential.
    return _ENDED + hashlib.sha256(token.encode()).hexdigest()


def cookie_secure(settings: ServiceSettings, request: Request) -> bool:
    """Secure outside development; in development only over HTTPS (plain-HTTP localhost)."""
    return settings.environment != "development" or request.url.scheme == "https"


def set_session_cookie(
    response: Response,
    token: str,
    *,
    settings: ServiceSettings,
    request: Request,
    expires_at: float,
) -> None:
    """The session cookie: HttpOnly, SameSite=Lax (the issuer's redirect back is a top-level
    navigation from another site), Secure outside development, never outliving the token
    or `session_lifetime_s`."""
    max_age = int(min(settings.session_lifetime_s, expires_at - time.time()))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(max_age, 0),
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(settings, request),
    )


def clear_session_cookie(
    response: Response, *, settings: ServiceSettings, request: Request
) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(settings, request),
    )


async def end_session(redis: Redis, token: str, *, expires_at: float) -> None:
    """Record `token` as signed out until it would have expired anyway."""
    ttl = int(expires_at - time.time()) + 60  # the verifier's leeway, and some
    if ttl <= 0:
        return
    try:
        await redis.set(_key(token), b"1", ex=ttl)
    except (RedisError, OSError) as error:
        log.warning("session.end_not_recorded", error=type(error).__name__)


async def has_ended(redis: Redis, token: str) -> bool:
    try:
        return bool(await redis.exists(_key(token)))
    except (RedisError, OSError) as error:
        log.warning("session.end_not_checked", error=type(error).__name__)
        return False
