"""SIGKILL in the middle of a release: the service runs as a real process
(`python -m forbedring_notification`), sends the stage-2 release to 12,000 employees, and
is killed with SIGKILL once some but not all have their email; then it is started again.

No one gets two. Everyone gets one, except the few the ledger marks 'possibly sent' (the
batch each connection was sending when the process died: sent or not, nobody can know,
so they are not sent again on their own, and HR sees them); those are counted and
reported, and there are never more than a batch per connection. What the SMTP server
received is parsed with the standard library's parser (To, Message-ID)."""

import asyncio
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import asyncpg
import httpx
import pytest

from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    consumed,
    event_producer,
    free_port,
    plain_url,
    service_environment,
    unique_name,
)
from forbedring_contracts.events import Event, ResultsReleased
from forbedring_notification.consumers import CONSUMED_TOPICS
from services.notification.tests.org import a_large_trust, large_trust_address
from services.notification.tests.smtp import SmtpServer

EMPLOYEES = 12_000
CONNECTIONS = 4
BATCH = 20
KILL_AFTER = 1_500  # emails received before the SIGKILL


@dataclass
class Process:
    process: "subprocess.Popen[bytes]"
    url: str
    log: Path

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture
async def logs() -> AsyncIterator[Path]:
    with tempfile.TemporaryDirectory(prefix="notification-sigkill-") as directory:
        yield Path(directory)


async def start(
    *,
    infrastructure: Infrastructure,
    database_url: str,
    topic_prefix: str,
    consumer_group: str,
    smtp_port: int,
    log: Path,
) -> Process:
    port = free_port()
    env = {
        **os.environ,
        **service_environment(
            "notification",
            infrastructure=infrastructure,
            database_url=database_url,
            topic_prefix=topic_prefix,
            port=port,
            consumer_group=consumer_group,
        ),
        "NOTIFICATION_SMTP_PORT": str(smtp_port),
        "NOTIFICATION_SEND_RATE_PER_S": "0",
        "NOTIFICATION_RELAY_CONNECTIONS": str(CONNECTIONS),
        "NOTIFICATION_RELAY_BATCH_SIZE": str(BATCH),
        "NOTIFICATION_RELAY_POLL_INTERVAL_S": "0.2",
        # A short lease, so that the restarted process soon marks what the killed one
        # left 'sending' (a batch takes well under a second here).
        "NOTIFICATION_SENDING_LEASE_S": "10",
        "NOTIFICATION_SCHEDULER_ENABLED": "false",
        "NOTIFICATION_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "forbedring_notification"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    handle = Process(process, f"http://127.0.0.1:{port}", log)
    deadline = asyncio.get_running_loop().time() + 90
    async with httpx.AsyncClient() as client:
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"the service exited with {process.returncode}:\n{handle.tail()}"
                )
            try:
                if (await client.get(f"{handle.url}/readyz")).status_code == 200:
                    return handle
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the service was not ready within 90 s:\n{handle.tail()}")
            await asyncio.sleep(0.2)


async def produce(infrastructure: Infrastructure, prefix: str, events: Sequence[Event]) -> None:
    # A directory of 12,000 people is a few MB: more than the client's default request.
    async with event_producer(infrastructure, prefix, max_request_size=16 << 20) as send:
        await send(events)


async def ledger(database_url: str) -> dict[str, list[str]]:
    """The release's rows by status: the addresses of each."""
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT status, email FROM notification_deliveries WHERE kind = 'results_released'"
        )
    finally:
        await connection.close()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["status"], []).append(row["email"])
    return found


@pytest.mark.timeout(900)
async def test_sigkill_mid_release_then_restart_sends_no_one_two_and_everyone_one(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    logs: Path,
    record_property: Callable[[str, object], None],
) -> None:
    servers = infrastructure.kafka_bootstrap_servers
    topics = [private_topic_prefix + topic for topic in CONSUMED_TOPICS]
    database_url = await databases.create("notification")
    group = unique_name("notification")
    period_id = unique_name("period")
    smtp = SmtpServer().start()

    async def launch(log: Path) -> Process:
        return await start(
            infrastructure=infrastructure,
            database_url=database_url,
            topic_prefix=private_topic_prefix,
            consumer_group=group,
            smtp_port=smtp.port,
            log=log,
        )

    first: Process | None = None
    second: Process | None = None
    try:
        first = await launch(logs / "first.log")
        await produce(infrastructure, private_topic_prefix, [a_large_trust(period_id, EMPLOYEES)])
        await consumed(servers, group, topics, timeout=120)
        released = ResultsReleased(
            period_id=period_id,
            stage=2,
            audience=("leader", "safety_rep", "union_rep", "hr_admin", "employee"),
            released_at=datetime.now(UTC) - timedelta(seconds=1),
        )
        await produce(infrastructure, private_topic_prefix, [released])

        # Some but not all delivered: kill -9, in the middle of sending.
        await smtp.wait_for(KILL_AFTER, timeout=240)
        first.process.kill()
        assert first.process.wait(timeout=30) == -9
        at_kill = smtp.mailbox.count()
        assert at_kill < EMPLOYEES, "everything was sent before the kill: nothing tested"
        before = await ledger(database_url)

        second = await launch(logs / "second.log")

        async def settled() -> dict[str, list[str]]:
            deadline = asyncio.get_running_loop().time() + 300
            while True:
                rows = await ledger(database_url)
                if sum(map(len, rows.values())) == EMPLOYEES and not (
                    rows.get("pending") or rows.get("sending")
                ):
                    return rows
                if asyncio.get_running_loop().time() > deadline:
                    counts = {status: len(emails) for status, emails in rows.items()}
                    tail = second.tail() if second else ""
                    raise AssertionError(f"not settled within 300 s: {counts}\n{tail}")
                await asyncio.sleep(0.5)

        after = await settled()
        # Nothing more arrives: the ledger has nothing left to send.
        await consumed(servers, group, topics, timeout=60)
    finally:
        for handle in (first, second):
            if handle is not None and handle.process.poll() is None:
                handle.process.terminate()
                try:
                    handle.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    handle.process.kill()
        smtp.stop()

    received = [m.message for m in smtp.mailbox.snapshot()]
    per_recipient = Counter(parseaddr(str(m["To"]))[1].lower() for m in received)
    per_message_id = Counter(str(m["Message-ID"]) for m in received)
    possibly_sent = set(after.get("possibly_sent", []))
    everyone = {large_trust_address(n) for n in range(EMPLOYEES)}

    # No one gets two: not by address, not by Message-ID.
    assert [a for a, n in per_recipient.items() if n > 1] == []
    assert [i for i, n in per_message_id.items() if n > 1] == []
    assert set(per_recipient) <= everyone
    # Everyone gets one, except those the ledger marks possibly sent.
    missing = everyone - set(per_recipient)
    assert missing <= possibly_sent, sorted(missing - possibly_sent)[:10]
    assert set(after) <= {"sent", "possibly_sent"}
    assert len(after.get("sent", [])) + len(possibly_sent) == EMPLOYEES
    # Possibly sent: only what was in flight at the kill, at most a batch per connection.
    assert len(possibly_sent) <= CONNECTIONS * BATCH
    assert possibly_sent <= set(before.get("sending", []))

    delivered_of_possibly_sent = len(possibly_sent & set(per_recipient))
    report = (
        f"SIGKILL after {at_kill} of {EMPLOYEES} emails; after the restart "
        f"{len(per_recipient)} delivered, 0 twice; possibly sent: {len(possibly_sent)} "
        f"({delivered_of_possibly_sent} of them did arrive, "
        f"{len(possibly_sent) - delivered_of_possibly_sent} did not)"
    )
    print(report)
    record_property("sigkill_report", report)
