"""SMTP down, then up, end to end from a real release: publication releases stage 1 (its
scheduler, its outbox, the real results-released on the broker), notification reads it
and tries to mail everyone the release names while no mail server listens; each email is
retried, never given up on; the server starts and every email arrives exactly once, to
exactly the people the release's audience names in the period's directory."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    event_producer,
    eventually,
    in_process,
    unique_name,
    verifier_for_tests,
)
from forbedring_notification.app import create_app as create_notification
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.settings import NotificationSettings
from forbedring_publication.app import create_app as create_publication
from forbedring_publication.scheduler import Scheduler
from forbedring_publication.settings import PublicationSettings
from services.notification.tests.integration.conftest import HR_ADMIN, QUICK_MAIL, token
from services.notification.tests.smtp import SmtpServer
from services.publication.tests.integration.conftest import (
    FINALIZED_AT,
    STAGE_1_DELAY,
    an_org,
    released_events,
)
from services.publication.tests.integration.conftest import token as publication_token
from tests.faults.outcomes import record_outcome


@asynccontextmanager
async def _moving(clock: SettableClock) -> AsyncIterator[None]:
    """Notification's clock moves a second every 50 ms, so retries fall due."""

    async def move() -> None:
        while True:
            await asyncio.sleep(0.05)
            clock.advance(timedelta(seconds=1))

    mover = asyncio.create_task(move())
    try:
        yield
    finally:
        mover.cancel()


async def test_smtp_down_then_up_delivers_every_release_email_exactly_once(
    infrastructure: Infrastructure, databases: Databases, private_topic_prefix: str
) -> None:
    org = an_org()
    smtp = SmtpServer()  # not started: nothing listens on its port yet
    publication_clock = SettableClock(FINALIZED_AT - timedelta(hours=1))
    notification_clock = SettableClock(FINALIZED_AT)
    publication_app = create_publication(
        PublicationSettings(
            database_url=await databases.create("publication"),
            **infrastructure.connections(private_topic_prefix),
            consumer_group=unique_name("publication"),
            scheduler_enabled=False,
            outbox_poll_interval_s=0.05,
        ),
        clock=publication_clock,
        verifier=verifier_for_tests(),
    )
    notification_app = create_notification(
        NotificationSettings(
            database_url=await databases.create("notification"),
            **infrastructure.connections(private_topic_prefix),
            consumer_group=unique_name("notification"),
            smtp_port=smtp.port,
            **QUICK_MAIL,
        ),
        clock=notification_clock,
        verifier=verifier_for_tests(),
    )
    scheduler: Scheduler = publication_app.state.scheduler

    async with (
        in_process(publication_app, "http://publication") as publication,
        in_process(notification_app, "http://notification") as notification,
        event_producer(infrastructure, private_topic_prefix) as send,
        _moving(notification_clock),
    ):

        async def deliveries() -> list[dict[str, Any]]:
            reply = await notification.get(
                "/api/v1/deliveries",
                params={"period_id": org.period_id, "limit": 1000},
                headers=token(HR_ADMIN),
            )
            assert reply.status_code == 200, reply.text
            rows: list[dict[str, Any]] = reply.json()["deliveries"]
            return rows

        await send([org.opened, org.directory, *org.results, org.finalized])

        async def finalised() -> bool:
            reply = await publication.get(
                f"/api/v1/periods/{org.period_id}/schedule", headers=publication_token("hr_admin")
            )
            return reply.status_code == 200 and reply.json().get("finalised") is True

        await eventually(finalised, timeout=60)
        # Stage 1 due: publication's own scheduler releases it and its outbox sends it.
        publication_clock.set(org.finalized.finalized_at + STAGE_1_DELAY)
        await scheduler.tick()
        [released] = await released_events(infrastructure, private_topic_prefix, org.period_id)
        expected = Counter(
            role.email.lower() for role in org.directory.roles if role.role in released["audience"]
        )
        assert expected, "the release names someone"

        async def release_mails_retried() -> bool:
            rows = [r for r in await deliveries() if r["email"].lower() in expected]
            return len(rows) >= expected.total() and all(
                r["status"] in ("pending", "sending") and r["attempts"] >= 2 and r["last_error"]
                for r in rows
            )

        await eventually(release_mails_retried, timeout=90, interval=0.5)
        retried = await deliveries()
        assert smtp.mailbox.count() == 0

        smtp.start()
        try:

            async def all_sent() -> bool:
                rows = await deliveries()
                return bool(rows) and all(r["status"] == "sent" for r in rows)

            await eventually(all_sent, timeout=90, interval=0.5)
            rows = await deliveries()
        finally:
            smtp.stop()

    got = Counter(
        (r.lower(), m.message["Subject"]) for m in smtp.mailbox.snapshot() for r in m.recipients
    )
    assert all(n == 1 for n in got.values()), f"an email sent twice: {got}"
    assert Counter(r.lower() for r, _ in got) == Counter(r["email"].lower() for r in rows)
    release_rows = [r for r in rows if r["kind"] == Kind.RESULTS_RELEASED]
    assert Counter(r["email"].lower() for r in release_rows) == expected
    record_outcome(
        "smtp-down-then-up",
        "publication+notification",
        release_stage=released["stage"],
        release_recipients=expected.total(),
        attempts_while_down=max(r["attempts"] for r in retried),
        emails_sent=len(got),
        sent_twice=sum(1 for n in got.values() if n > 1),
        lost=sum(1 for r in rows if r["status"] != "sent"),
    )
