"""Without Kafka, PostgreSQL and Redis the test fixtures fail and say what to run."""

from pathlib import Path

import pytest

from forbedring_chassis import testing


def test_no_infrastructure_is_a_failure_naming_make_infra_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(testing, "_docker_answers", lambda: False)
    monkeypatch.setattr(testing, "INFRA_SCRIPT", tmp_path / "no-such-script.sh")
    with pytest.raises(testing.InfrastructureMissing, match="make infra-up"):
        testing.locate_infrastructure()


def test_addresses_from_the_environment_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:1")
    monkeypatch.setenv("DATABASE_URL", "postgresql://d/x")
    monkeypatch.setenv("REDIS_URL", "redis://r/0")
    assert testing.locate_infrastructure() == testing.Infrastructure(
        "k:1", "postgresql://d/x", "redis://r/0"
    )
