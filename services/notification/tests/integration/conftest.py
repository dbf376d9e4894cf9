"""The notification service on the real broker and PostgreSQL, in this process, on topics
private to each test, sending to a real SMTP server the test starts (aiosmtpd). Events are
produced to the broker the way the other services send them (the contracts' envelope)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    InProcessService,
    SendEvents,
    ServiceStarter,
    consumed,
    in_process_starter,
    issuer_for_tests,
)
from forbedring_notification.app import create_app
from forbedring_notification.consumers import CONSUMED_TOPICS
from forbedring_notification.relay import MailRelay
from forbedring_notification.scheduler import Scheduler
from forbedring_notification.settings import NotificationSettings
from services.notification.tests.org import OPENS_AT
from services.notification.tests.smtp import SmtpServer

ISSUER = issuer_for_tests()
HR_ADMIN = "HR"


def token(person_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER.issue(person_id)}"}


class Notification(InProcessService[NotificationSettings, Scheduler]):
    @property
    def relay(self) -> MailRelay:
        relay: MailRelay = self.app.state.mail_relay
        return relay

    @asynccontextmanager
    async def time_passing(self, *, step: timedelta = timedelta(seconds=1)) -> AsyncIterator[None]:
        """The settable clock moves on by `step` every 50 ms (retries fall due)."""

        async def move() -> None:
            while True:
                await asyncio.sleep(0.05)
                self.clock.advance(step)

        mover = asyncio.create_task(move())
        try:
            yield
        finally:
            mover.cancel()

    async def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            reply = await self.client.get(
                "/api/v1/deliveries",
                params={**filters, "limit": 1000, "offset": len(found)},
                headers=token(HR_ADMIN),
            )
            assert reply.status_code == 200, reply.text
            page = reply.json()["deliveries"]
            found += page
            if len(page) < 1000:
                return found

    async def counts(self) -> dict[str, int]:
        reply = await self.client.get(
            "/api/v1/deliveries", params={"limit": 1}, headers=token(HR_ADMIN)
        )
        assert reply.status_code == 200, reply.text
        counts: dict[str, int] = reply.json()["counts"]
        return counts

    async def consumed(self, *, timeout: float = 60.0) -> None:
        """Every event on every topic it reads has been applied and its offset committed
        (the commit follows the database's): what it will write for them is written."""
        settings = self.settings
        topics = [settings.kafka_topic_prefix + topic for topic in CONSUMED_TOPICS]
        await consumed(settings.kafka_bootstrap_servers, settings.group_id, topics, timeout=timeout)

    async def settled(self, *, timeout: float = 60.0) -> dict[str, int]:
        """Consumed, and nothing left to send (no row pending or being sent)."""
        await self.consumed(timeout=timeout)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            counts = await self.counts()
            if not counts.get("pending") and not counts.get("sending"):
                return counts
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"still sending after {timeout}s: {counts}")
            await asyncio.sleep(0.05)


@pytest.fixture
def smtp() -> Any:
    server = SmtpServer().start()
    yield server
    server.stop()


# What every test's notification runs with: no pacing, quick retries, the scheduler only
# by `tick()`.
QUICK_MAIL: dict[str, Any] = {
    "scheduler_enabled": False,
    "relay_poll_interval_s": 0.1,
    "send_rate_per_s": 0,
    "retry_base_s": 0.2,
    "retry_max_s": 1.0,
    "public_base_url": "https://forbedring.test",
    "hr_admins": [HR_ADMIN],
}


@pytest.fixture
def notification(
    infrastructure: Infrastructure, private_topic_prefix: str, databases: Databases
) -> ServiceStarter[Notification]:
    """`async with notification(smtp_port=…) as running`: the service in this process,
    with a settable clock (at the period's opening unless given) and its scheduler run
    only by `tick()`. A fresh database and consumer group unless given."""
    return in_process_starter(
        Notification,
        create_app,
        NotificationSettings,
        infrastructure=infrastructure,
        databases=databases,
        topic_prefix=private_topic_prefix,
        clock_at=OPENS_AT,
        **QUICK_MAIL,
        # Its own slow poll: it publishes nothing, and a quick one only takes transactions
        # from the mail relay.
        outbox_poll_interval_s=NotificationSettings.model_fields["outbox_poll_interval_s"].default,
    )


@pytest.fixture
def produce(send_events: SendEvents) -> SendEvents:
    """Here `produce` sends to the test's own topics: each test counts its own mail."""
    return send_events
