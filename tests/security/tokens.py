"""Tokens every service must refuse, each forged with what an attacker could have: the
issuer's public key, a token of their own, or the test issuer's own key misused (so that
only the one flaw named makes it invalid)."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from forbedring_chassis.testing import ISSUER_FOR_TESTS, issuer_for_tests, issuer_key_for_tests

AUDIENCE = "forbedring"
SUBJECT = "hr-admin"  # the strongest role: a refusal is the token's fault, never the role's


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _kid() -> str:
    kid: str = issuer_for_tests().jwks()["keys"][0]["kid"]
    return kid


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER_FOR_TESTS,
        "aud": AUDIENCE,
        "sub": SUBJECT,
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, Any], *, kid: str | None = None) -> str:
    return jwt.encode(
        claims, issuer_key_for_tests(), algorithm="RS256", headers={"kid": kid or _kid()}
    )


def valid() -> str:
    """The control: the same forging code with no flaw gives a token every service takes."""
    return _signed(_claims())


def expired() -> str:
    hour_ago = int(time.time()) - 3600
    return _signed(_claims(iat=hour_ago - 3600, exp=hour_ago))


def not_yet_valid() -> str:
    return _signed(_claims(nbf=int(time.time()) + 3600))


def wrong_issuer() -> str:
    return _signed(_claims(iss="https://elsewhere.test"))


def wrong_audience() -> str:
    return _signed(_claims(aud="another-application"))


def alg_none() -> str:
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(_claims())}."


def hs256_with_the_public_key() -> str:
    """The key-confusion attack: HMAC-signed with the issuer's published RSA key as the
    secret, hoping the verifier uses "the key" with whatever `alg` the token names."""
    private = serialization.load_pem_private_key(issuer_key_for_tests().encode(), password=None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': _kid()})}.{_segment(_claims())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def tampered_payload() -> str:
    """An employee's genuine token with the payload swapped for the HR admin's."""
    header, _, signature = _signed(_claims(sub="e-unit-a-1")).split(".")
    return f"{header}.{_segment(_claims())}.{signature}"


def unknown_key_id() -> str:
    """Signed by a key the issuer never published, under a key id it does not have."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(), stranger, algorithm="RS256", headers={"kid": "not-a-known-key"})


def known_key_id_other_key() -> str:
    """Signed by a stranger's key, claiming the issuer's key id."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(), stranger, algorithm="RS256", headers={"kid": _kid()})


def no_expiry() -> str:
    return _signed(_claims(exp=None))


REFUSED: dict[str, Callable[[], str]] = {
    "expired": expired,
    "not yet valid (nbf in the future)": not_yet_valid,
    "wrong issuer": wrong_issuer,
    "wrong audience": wrong_audience,
    "alg: none": alg_none,
    "HS256 signed with the RSA public key": hs256_with_the_public_key,
    "tampered payload (another payload's signature)": tampered_payload,
    "unknown key id": unknown_key_id,
    "the issuer's key id, another key": known_key_id_other_key,
    "no exp": no_expiry,
}
