"""Token validation and the development issuer (no network: the issuer's keys are local)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from forbedring_chassis.auth import (
    DevelopmentIssuer,
    InvalidToken,
    TokenVerifier,
    build_verifier,
    development_issuer,
)
from forbedring_chassis.settings import ServiceSettings

ISSUER = "http://localhost/dev-issuer"


def verifier_for(issuer: DevelopmentIssuer, audience: str = "forbedring") -> TokenVerifier:
    return TokenVerifier(issuers={issuer.issuer: issuer.keys()}, audience=audience)


@pytest.fixture(scope="module")
def issuer() -> DevelopmentIssuer:
    return DevelopmentIssuer(issuer=ISSUER, audience="forbedring")


async def test_a_development_token_names_the_employee(issuer: DevelopmentIssuer) -> None:
    principal = await verifier_for(issuer).verify(issuer.issue("E123"))
    assert principal.subject == "E123"
    assert principal.issuer == ISSUER
    assert issuer.jwks()["keys"][0]["kty"] == "RSA"


async def test_expired_tokens_wrong_audience_and_other_keys_are_refused(
    issuer: DevelopmentIssuer,
) -> None:
    old = issuer.issue("E1", now=datetime.now(UTC) - timedelta(days=2))
    with pytest.raises(InvalidToken):
        await verifier_for(issuer).verify(old)
    with pytest.raises(InvalidToken):
        await verifier_for(issuer, audience="someone-else").verify(issuer.issue("E1"))
    impostor = DevelopmentIssuer(issuer=ISSUER, audience="forbedring")
    with pytest.raises(InvalidToken):
        await verifier_for(issuer).verify(impostor.issue("E1"))
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": "forbedring", "sub": "E1", "iat": 0, "exp": 2**40},
        key="",
        algorithm="none",
    )
    with pytest.raises(InvalidToken):
        await verifier_for(issuer).verify(unsigned)


async def test_tokens_of_unconfigured_issuers_are_refused(issuer: DevelopmentIssuer) -> None:
    other = DevelopmentIssuer(issuer="https://elsewhere", audience="forbedring")
    with pytest.raises(InvalidToken, match="untrusted issuer"):
        await verifier_for(issuer).verify(other.issue("E1"))


def test_the_development_issuer_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="dev_issuer_enabled"):
        ServiceSettings(
            database_url="postgresql://x/y", environment="Production", dev_issuer_enabled=True
        )
    assert not ServiceSettings(database_url="postgresql://x/y").dev_issuer_enabled


async def test_services_given_one_key_file_accept_each_others_development_tokens(
    tmp_path: Path,
) -> None:
    """As the compose stack runs them: each service reads the development issuer's key
    from one shared file, so a token from one service's sign-in is valid at the others."""
    key = tmp_path / "dev-issuer.pem"
    key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    survey, publication = (
        ServiceSettings(
            database_url="postgresql://x/y",
            dev_issuer_enabled=True,
            dev_issuer_private_key_file=key,
        )
        for _ in range(2)
    )
    signing, checking = development_issuer(survey), development_issuer(publication)
    assert signing is not None
    assert checking is not None
    principal = await build_verifier(publication, development=checking).verify(signing.issue("E7"))
    assert principal.subject == "E7"
