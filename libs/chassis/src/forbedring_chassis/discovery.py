"""An OpenID issuer's discovery document (`<issuer>/.well-known/openid-configuration`):
where its keys, login, token and logout endpoints are. Entra ID and Keycloak publish
their keys at different paths, so nothing is guessed; fetched on first use and cached."""

import asyncio
import time
from dataclasses import dataclass

import httpx


class DiscoveryFailed(Exception):
    """The issuer's discovery document could not be fetched or is not for this issuer."""


@dataclass(frozen=True)
class IssuerMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None
    """RP-initiated logout, when the issuer supports it."""


class Discovery:
    def __init__(self, issuer: str, *, ttl_s: float = 3600.0, timeout_s: float = 5.0) -> None:
        self.issuer = issuer
        self.url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._metadata: IssuerMetadata | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def metadata(self) -> IssuerMetadata:
        async with self._lock:
            fresh = time.monotonic() - self._fetched_at < self._ttl_s
            if self._metadata is not None and fresh:
                return self._metadata
            try:
                async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                    reply = await client.get(self.url)
                    reply.raise_for_status()
                    document = reply.json()
                found = IssuerMetadata(
                    issuer=str(document["issuer"]),
                    authorization_endpoint=str(document["authorization_endpoint"]),
                    token_endpoint=str(document["token_endpoint"]),
                    jwks_uri=str(document["jwks_uri"]),
                    end_session_endpoint=document.get("end_session_endpoint"),
                )
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                if self._metadata is not None:  # keep the last good one through an outage
                    return self._metadata
                raise DiscoveryFailed(f"{self.url}: {type(exc).__name__}") from exc
            # OpenID Connect Discovery §4.3: the document must name the issuer asked.
            if found.issuer != self.issuer:
                raise DiscoveryFailed(f"{self.url} names issuer {found.issuer!r}")
            self._metadata = found
            self._fetched_at = time.monotonic()
            return found
