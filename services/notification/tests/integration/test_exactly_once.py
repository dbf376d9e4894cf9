"""Exactly once: a replay of the whole event log from the earliest offset, under a new
consumer group, sends nothing new; SMTP down for a while then up delivers every email
exactly once, and the permanent failures are shown on the admin page, not retried."""

from collections import Counter
from typing import Any

from forbedring_chassis.testing import eventually, unique_name
from forbedring_contracts.events import ResultsReleased
from services.notification.tests.integration.conftest import HR_ADMIN, token
from services.notification.tests.org import CLOSES_AT, a_period, address, holders, members_of
from services.notification.tests.smtp import SmtpServer

INVITED = members_of("S11", "S12", "K2")


def stage_2(period_id: str) -> ResultsReleased:
    return ResultsReleased(
        period_id=period_id,
        stage=2,
        audience=("leader", "safety_rep", "union_rep", "hr_admin", "employee"),
        released_at=CLOSES_AT,
    )


async def test_a_replay_from_the_earliest_offset_with_a_new_group_sends_nothing_new(
    notification: Any, produce: Any, smtp: SmtpServer
) -> None:
    period = a_period(unique_name("period"))
    # Every event twice over (as a producer's retry or a rebalance may deliver them).
    events = [period.directory, period.opened, stage_2(period.period_id)]
    await produce(events + events)
    async with notification(smtp_port=smtp.port) as first:
        database_url = first.settings.database_url
        counts = await first.settled()
    sent_first = smtp.mailbox.per_recipient()
    opened = len(holders("leader")) + len(INVITED)
    assert counts == {"sent": opened + len(INVITED)}
    assert sum(sent_first.values()) == opened + len(INVITED)

    # The same database, a new consumer group: every event is read again from the start.
    async with notification(
        smtp_port=smtp.port, database_url=database_url, consumer_group=unique_name("replay")
    ) as replay:
        assert await replay.settled() == counts
    assert smtp.mailbox.per_recipient() == sent_first
    # Leaders: the leaders' opening email; everyone invited: the invitation and the release.
    assert sent_first == Counter(
        [address(p) for p in holders("leader")] + [address(p) for p in INVITED] * 2
    )


async def test_smtp_down_then_up_delivers_every_email_once_and_shows_permanent_failures(
    notification: Any, produce: Any
) -> None:
    period = a_period(unique_name("period"))
    refused = {address("E-K2-01"), address("L-K2")}
    server = SmtpServer(refuse=refused)  # not started: nothing listens on its port yet
    async with notification(smtp_port=server.port) as running, running.time_passing():
        await produce([period.directory, period.opened])
        await running.consumed()

        # Every row is tried, fails to connect, and is tried again (pending, or being
        # tried at this very moment), never given up on.
        async def all_retried() -> bool:
            rows = await running.deliveries(period_id=period.period_id)
            return bool(rows) and all(
                r["status"] in ("pending", "sending") and r["attempts"] >= 2 and r["last_error"]
                for r in rows
            )

        await eventually(all_retried, timeout=30)
        assert server.mailbox.count() == 0

        server.start()
        try:
            counts = await running.settled()
            rows = await running.deliveries(period_id=period.period_id)
            page = await running.client.get(
                "/admin", params={"status": "failed"}, headers=token(HR_ADMIN)
            )
        finally:
            server.stop()

    # Each email once: the leaders' opening email and every invitation (S11's leader is
    # invited too, so gets both), none to the refused addresses.
    expected = Counter(
        a
        for a in [address(p) for p in holders("leader")] + [address(p) for p in INVITED]
        if a not in refused
    )
    got = Counter(r.lower() for m in server.mailbox.snapshot() for r in m.recipients)
    assert got == expected
    assert counts == {"sent": expected.total(), "failed": len(refused)}
    failed = {r["email"]: r for r in rows if r["status"] == "failed"}
    assert set(failed) == refused
    assert all("550" in r["last_error"] and "permanent" in r["last_error"] for r in failed.values())
    assert page.status_code == 200
    for email in refused:
        assert email in page.text
    assert page.text.count('data-delivery="') == len(refused)
