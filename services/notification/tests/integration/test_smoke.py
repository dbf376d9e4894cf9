from typing import Any

from forbedring_chassis.testing import unique_name
from services.notification.tests.org import a_period, address, holders, members_of
from services.notification.tests.smtp import SmtpServer


async def test_opening(notification: Any, produce: Any, smtp: SmtpServer) -> None:
    period = a_period(unique_name("period"))
    async with notification(smtp_port=smtp.port) as running:
        await produce([period.directory, period.opened])
        counts = await running.settled()
    expected = holders("leader") | members_of("S11", "S12", "K2")
    print(counts)
    got = smtp.mailbox.per_recipient()
    assert sum(got.values()) == len(holders("leader")) + len(members_of("S11", "S12", "K2"))
    assert set(got) == {address(p) for p in expected}
