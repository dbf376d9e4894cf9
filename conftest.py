"""Fixtures for every test in the repository: the real Kafka, PostgreSQL and Redis.

Addresses come from KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL / REDIS_URL, else from
testcontainers when a Docker engine answers, else from the local scripts in deploy/.
When none works the test fails (never skips) and says to run `make infra-up`.
"""

import uuid
from collections.abc import AsyncIterator

import pytest

from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    InfrastructureMissing,
    SendEvents,
    drop_database,
    event_producer,
    fresh_topics,
    locate_infrastructure,
)


@pytest.fixture(scope="session")
def infrastructure() -> Infrastructure:
    try:
        return locate_infrastructure()
    except InfrastructureMissing as exc:
        pytest.fail(str(exc), pytrace=False)


async def _fresh_topics(infrastructure: Infrastructure) -> AsyncIterator[str]:
    prefix = f"test-{uuid.uuid4().hex[:8]}."
    async with fresh_topics(infrastructure.kafka_bootstrap_servers, prefix):
        yield prefix


@pytest.fixture(scope="session")
async def topic_prefix(infrastructure: Infrastructure) -> AsyncIterator[str]:
    """Every topic of deploy/topics.yaml, created under a prefix private to this test run."""
    async for prefix in _fresh_topics(infrastructure):
        yield prefix


@pytest.fixture
async def private_topic_prefix(infrastructure: Infrastructure) -> AsyncIterator[str]:
    """Topics private to one test, for tests that must see only their own events."""
    async for prefix in _fresh_topics(infrastructure):
        yield prefix


@pytest.fixture
async def produce(infrastructure: Infrastructure, topic_prefix: str) -> AsyncIterator[SendEvents]:
    """Send events to the run's topics on the real broker, as a producing service would."""
    async with event_producer(infrastructure, topic_prefix) as send:
        yield send


@pytest.fixture
async def send_events(
    infrastructure: Infrastructure, private_topic_prefix: str
) -> AsyncIterator[SendEvents]:
    """Events to the real broker, under the test's own topics, as a service sends them."""
    async with event_producer(infrastructure, private_topic_prefix) as send:
        yield send


@pytest.fixture(scope="session")
async def databases(infrastructure: Infrastructure) -> AsyncIterator[Databases]:
    created = Databases(infrastructure.database_url)
    yield created
    for name in created.names:
        await drop_database(infrastructure.database_url, name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reaches the real infrastructure (through the `infrastructure`
    fixture, directly or by another fixture) is marked `infra`, so that
    `pytest -m "not infra"` is a true unit run, in seconds, with nothing reachable."""
    for item in items:
        if "infrastructure" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.infra)
