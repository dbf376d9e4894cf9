"""Emails sent and failed, as ops see them on /metrics: every email the SMTP server
accepted counted as sent under its kind, every refused address as a permanent failure."""

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from forbedring_chassis.testing import unique_name
from services.notification.tests.org import a_period, address
from services.notification.tests.smtp import SmtpServer


async def _samples(client: Any) -> list[tuple[str, dict[str, str], float]]:
    reply = await client.get("/metrics/")
    assert reply.status_code == 200
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    ]


def _total(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, got, v in samples if n == name and labels.items() <= got.items())


async def test_emails_sent_and_failed_are_counted_by_kind(notification: Any, produce: Any) -> None:
    period = a_period(unique_name("period"))
    refused = {address("E-K2-01")}
    server = SmtpServer(refuse=refused).start()
    try:
        async with notification(smtp_port=server.port) as running:
            before = await _samples(running.client)
            await produce([period.directory, period.opened])
            counts = await running.settled()
            after = await _samples(running.client)
    finally:
        server.stop()
    sent = _total(after, "forbedring_emails_sent_total") - _total(
        before, "forbedring_emails_sent_total"
    )
    failed = _total(after, "forbedring_emails_failed_total", failure="permanent") - _total(
        before, "forbedring_emails_failed_total", failure="permanent"
    )
    assert sent == counts["sent"] == server.mailbox.count()
    assert failed == counts["failed"] == len(refused)
    kinds = {labels["kind"] for n, labels, _ in after if n == "forbedring_emails_sent_total"}
    assert kinds, "sent emails are labelled by kind"
