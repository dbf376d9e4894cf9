"""The fault suite's fixtures: a private set of PostgreSQL, Redis, Kafka and SMTP sink
(deploy/local/infra.sh under its own state directory and ports) that the outage cases
stop and start, never the set other tests share; and the `faults` marker on every test
here (`make test-faults`)."""

import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from forbedring_chassis.testing import (
    INFRA_SCRIPT,
    REPO_ROOT,
    Databases,
    Infrastructure,
    drop_database,
)
from forbedring_chassis.topic_admin import apply_topics, delete_topics_with_prefix, load_topics
from tests.conftest import Stack, running_stack

Component = Literal["postgres", "redis", "kafka", "smtp"]
HERE = Path(__file__).parent
SHARED_STATE = REPO_ROOT / ".state"
PRIVATE_STATE = SHARED_STATE / "faults"
# Ports beside the shared set's (55432, 56379, 59092, 51025): both run at once.
PRIVATE_PORTS = {
    "FORBEDRING_PG_PORT": "55532",
    "FORBEDRING_REDIS_PORT": "56479",
    "FORBEDRING_KAFKA_PORT": "59192",
    "FORBEDRING_KAFKA_CONTROLLER_PORT": "59193",
    "FORBEDRING_SMTP_PORT": "51125",
    "FORBEDRING_SMTP_UI_PORT": "58125",
}
SMTP_HOST, SMTP_PORT = "127.0.0.1", 51125


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.infra)  # its own private set is real infrastructure


@dataclass
class PrivateSet:
    """The private infrastructure and its outages: `await stop("kafka")` … `start`."""

    infrastructure: Infrastructure
    environment: dict[str, str]

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(INFRA_SCRIPT), *args], env=self.environment, capture_output=True, text=True
        )
        assert done.returncode == 0, f"infra.sh {' '.join(args)}:\n{done.stdout}\n{done.stderr}"

    def stop(self, component: Component) -> None:
        self._run(*(("smtp-down",) if component == "smtp" else ("stop", component)))

    def start(self, component: Component) -> None:
        self._run(*(("smtp-up",) if component == "smtp" else ("start", component)))

    def up(self) -> None:
        self._run("up")

    def down(self) -> None:
        self._run("down")


def _private_environment() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")
    }
    return {
        **env,
        **PRIVATE_PORTS,
        "FORBEDRING_STATE_DIR": str(PRIVATE_STATE),
        # The shared install's jars and sink (a fresh machine: `make infra-up` fetched them).
        "FORBEDRING_KAFKA_LIBS": str(SHARED_STATE / "kafka" / "libs"),
        "FORBEDRING_SMTP_VENV": str(SHARED_STATE / "smtp-venv"),
        # A broker restart under a load average of 20 took over the default 90 s.
        "INFRA_START_TIMEOUT": os.environ.get("INFRA_START_TIMEOUT", "300"),
    }


@pytest.fixture(scope="session")
def private_set() -> Iterator[PrivateSet]:
    """Started once for the session (about a minute), taken down at its end."""
    ports = PRIVATE_PORTS
    private = PrivateSet(
        Infrastructure(
            kafka_bootstrap_servers=f"127.0.0.1:{ports['FORBEDRING_KAFKA_PORT']}",
            database_url=(
                f"postgresql://forbedring:forbedring@127.0.0.1:{ports['FORBEDRING_PG_PORT']}"
                "/postgres"
            ),
            redis_url=f"redis://127.0.0.1:{ports['FORBEDRING_REDIS_PORT']}/0",
        ),
        _private_environment(),
    )
    private.up()
    try:
        yield private
    finally:
        # Kept up on request, to run a case again without a minute's start.
        if not os.environ.get("FORBEDRING_FAULTS_KEEP_UP"):
            private.down()


@pytest.fixture
async def private_databases(private_set: PrivateSet) -> AsyncIterator[Databases]:
    created = Databases(private_set.infrastructure.database_url)
    yield created
    # An outage case leaves the server up again; if not, the set's `down` removes it all.
    for name in created.names:
        with contextlib.suppress(OSError):
            await drop_database(private_set.infrastructure.database_url, name)


@pytest.fixture
async def private_topics(private_set: PrivateSet) -> AsyncIterator[str]:
    """Every topic of deploy/topics.yaml on the private broker, under a prefix of its own;
    deleted after the test, since each topic left makes every broker restart slower."""
    servers = private_set.infrastructure.kafka_bootstrap_servers
    prefix = f"faults-{uuid.uuid4().hex[:8]}."
    specs = load_topics(REPO_ROOT / "deploy" / "topics.yaml", prefix=prefix)
    await apply_topics(servers, specs)
    yield prefix
    await delete_topics_with_prefix(servers, prefix)


PrivateStack = Stack
"""survey and aggregation in this process on the private set (`count`: a unit's respondents)."""


@pytest.fixture
async def private_stack(
    private_set: PrivateSet, private_databases: Databases, private_topics: str
) -> AsyncIterator[Stack]:
    async with running_stack(private_set.infrastructure, private_databases, private_topics) as s:
        yield s
