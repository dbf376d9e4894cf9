"""Fixtures of the operations tests."""

from collections.abc import AsyncIterator

import pytest

from forbedring_chassis.testing import Infrastructure, SendEvents, event_producer


@pytest.fixture
async def send_events(
    infrastructure: Infrastructure, private_topic_prefix: str
) -> AsyncIterator[SendEvents]:
    """Events to the real broker, under the test's own topics, as a service sends them."""
    async with event_producer(infrastructure, private_topic_prefix) as send:
        yield send
