"""The development issuer exists only when enabled (no I/O: routes only)."""

from forbedring_survey.app import create_app
from forbedring_survey.settings import SurveySettings

URL = "postgresql://nobody@127.0.0.1:1/none"


def paths(enabled: bool) -> set[str]:
    app = create_app(SurveySettings(database_url=URL, dev_issuer_enabled=enabled))
    return set(app.openapi()["paths"])


def test_the_development_issuer_is_off_by_default() -> None:
    assert not SurveySettings(database_url=URL).dev_issuer_enabled
    found = paths(False)
    assert "/dev-login" not in found
    assert "/.well-known/jwks.json" not in found
    assert "/api/v1/responses" in found


def test_enabled_it_serves_a_login_and_its_keys() -> None:
    assert {"/dev-login", "/dev-login/form", "/.well-known/jwks.json"} <= paths(True)
