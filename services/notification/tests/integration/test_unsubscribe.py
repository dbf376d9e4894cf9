"""One-click unsubscribe (RFC 8058) from the digest's own header: the next digest day that
leader gets none, the other leaders still do."""

from datetime import timedelta
from typing import Any

from forbedring_chassis.testing import unique_name
from services.notification.tests.org import OPENS_AT, a_period, address, holders
from services.notification.tests.smtp import SmtpServer

LEADERS = holders("leader")


async def test_one_click_unsubscribe_stops_only_that_leaders_digests(
    notification: Any, produce: Any, smtp: SmtpServer
) -> None:
    period = a_period(unique_name("period"))
    async with notification(smtp_port=smtp.port) as running:
        await produce([period.directory, period.opened])
        await running.settled()
        running.clock.set(OPENS_AT + timedelta(days=7, hours=2))
        assert await running.scheduler.tick() == len(LEADERS)
        await running.settled()
        digest = next(
            m.message
            for m in smtp.mailbox.snapshot()
            if m.recipients == (address("L-K1"),) and m.message["List-Unsubscribe"]
        )
        path = (
            digest["List-Unsubscribe"]
            .strip("<>")
            .removeprefix("https://forbedring.test/notification")
        )
        looked = await running.client.get(path)
        assert looked.status_code == 200
        clicked = await running.client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert clicked.status_code == 200

        running.clock.set(OPENS_AT + timedelta(days=14, hours=2))
        assert await running.scheduler.tick() == len(LEADERS) - 1
        await running.settled()
        rows = await running.deliveries(period_id=period.period_id, kind="participation_digest")
    assert sorted(r["person_id"] for r in rows) == sorted([*LEADERS, *(LEADERS - {"L-K1"})])
