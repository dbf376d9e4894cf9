"""Notification benchmark: the stage-2 release to 12,000 employees, on the real Kafka and
PostgreSQL, delivered to a real SMTP server (aiosmtpd, in this process's thread); figures,
not assertions.

    source <(deploy/local/infra.sh env)
    uv run python services/notification/bench/bench_release.py [--employees 12000]

The service runs in this process (its consumer, ledger and mail relay as in production,
on a fresh database and fresh topics). Its directory names `--employees` people; then
results-released (stage 2) is produced and the clock runs until the last email arrives.
Next to it, in the same run, a bare aiosmtplib loop sends the same messages (as received)
to the same server over one connection. Reported: both rates, their ratio (goal >= 0.5),
duplicates (Message-IDs received twice: goal 0), and the time from results-released to
the last email delivered.

Writes `bench-results/notification.json` (repository root).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager

from forbedring_chassis.testing import REPO_ROOT, create_database, drop_database, uncommitted
from forbedring_chassis.topic_admin import apply_topics, delete_topics_with_prefix, load_topics
from forbedring_contracts import envelope
from forbedring_contracts.events import (
    DirectoryUpdated,
    Event,
    Membership,
    ResultsReleased,
    RoleAssignment,
    Unit,
)
from forbedring_notification.app import create_app
from forbedring_notification.consumers import CONSUMED_TOPICS
from forbedring_notification.settings import NotificationSettings
from services.notification.tests.smtp import SmtpServer


def directory(period_id: str, employees: int) -> DirectoryUpdated:
    units = [Unit(unit_id="HF", parent_id=None, name="Helse Bench HF", level="1")]
    units += [
        Unit(unit_id=f"U{n:03d}", parent_id="HF", name=f"Enhet {n}", level="3") for n in range(150)
    ]
    languages = ("nb", "nn", "en")
    return DirectoryUpdated(
        period_id=period_id,
        units=tuple(units),
        roles=tuple(
            RoleAssignment(
                person_id=f"L{n:03d}",
                unit_id=f"U{n:03d}",
                role="leader",
                name=f"Leder {n}",
                email=f"l{n:03d}@bench.example.org",
                language="nb",
            )
            for n in range(150)
        ),
        members=tuple(
            Membership(
                person_id=f"E{n:05d}",
                unit_id=f"U{n % 150:03d}",
                name=f"Ansatt Nummer {n}",
                email=f"e{n:05d}@bench.example.org",
                language=languages[n % 3],  # type: ignore[arg-type]
            )
            for n in range(employees)
        ),
    )


async def produce(servers: str, prefix: str, events: list[Event]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=servers, enable_idempotence=True, max_request_size=16 << 20
    )
    await producer.start()
    try:
        for event in events:
            record = envelope.encode(event)
            await producer.send_and_wait(
                prefix + record.topic, record.value, key=record.key, headers=record.headers
            )
    finally:
        await producer.stop()


async def consumed(servers: str, group: str, prefix: str) -> None:
    """Until every event on the topics the service reads is applied and committed."""
    while True:
        left = [await uncommitted(servers, group, prefix + t) for t in CONSUMED_TOPICS]
        if not any(left):
            return
        await asyncio.sleep(0.2)


async def bare_loop(port: int, raws: list[tuple[str, str, bytes]]) -> float:
    """Send the same messages over one connection, one after another: the baseline."""
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await smtp.connect()
    started = time.perf_counter()
    for sender, recipient, raw in raws:
        await smtp.sendmail(sender, [recipient], raw)
    elapsed = time.perf_counter() - started
    await smtp.quit()
    return elapsed


async def main(employees: int, connections: int) -> dict[str, object]:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092")
    admin_url = os.environ.get(
        "DATABASE_URL", "postgresql://forbedring:forbedring@127.0.0.1:55432/postgres"
    )
    name = f"bench_notification_{uuid.uuid4().hex[:8]}"
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    await apply_topics(servers, load_topics(REPO_ROOT / "deploy" / "topics.yaml", prefix=prefix))
    database_url = await create_database(admin_url, name)
    server = SmtpServer().start()
    period_id = f"bench-{uuid.uuid4().hex[:6]}"
    settings = NotificationSettings(
        database_url=database_url,
        kafka_bootstrap_servers=servers,
        kafka_topic_prefix=prefix,
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:56379/0"),
        smtp_port=server.port,
        scheduler_enabled=False,
        send_rate_per_s=0,
        relay_connections=connections,
        relay_poll_interval_s=0.2,
        log_level="WARNING",
    )
    try:
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
            # The directory first, read in before the release (as weeks before, in life).
            await produce(servers, prefix, [directory(period_id, employees)])
            await consumed(servers, settings.group_id, prefix)
            released = ResultsReleased(
                period_id=period_id,
                stage=2,
                audience=("leader", "safety_rep", "union_rep", "hr_admin", "employee"),
                released_at=datetime.now(UTC) - timedelta(seconds=1),
            )
            started = time.perf_counter()
            await produce(servers, prefix, [released])
            await server.wait_for(employees, timeout=600)
            total_s = time.perf_counter() - started
            # Nothing more comes: the ledger has nothing left to send.
            await consumed(servers, settings.group_id, prefix)
        received = server.mailbox.snapshot()
        stamps = [m for m in received]
        ids = Counter(m.message["Message-ID"] for m in stamps)
        duplicates = sum(count - 1 for count in ids.values())
        first_to_last = total_s  # measured from the release event: includes the fan-out
        service_rate = len(received) / first_to_last

        raws = [(m.sender, m.recipients[0], m.raw) for m in received]
        baseline = SmtpServer().start()
        try:
            bare_s = await bare_loop(baseline.port, raws)
        finally:
            baseline.stop()
        bare_rate = len(raws) / bare_s
        return {
            "benchmark": "notification stage-2 release",
            "when": datetime.now(UTC).isoformat(),
            "employees": employees,
            "relay_connections": connections,
            "emails_received": len(received),
            "distinct_message_ids": len(ids),
            "duplicates": duplicates,
            "release_to_last_email_s": round(total_s, 2),
            "service_rate_per_s": round(service_rate, 1),
            "bare_aiosmtplib_rate_per_s": round(bare_rate, 1),
            "ratio_to_bare": round(service_rate / bare_rate, 2),
            "goal": "ratio >= 0.5 with zero duplicates",
        }
    finally:
        server.stop()
        await drop_database(admin_url, name)
        await delete_topics_with_prefix(servers, prefix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=12_000)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    figures = asyncio.run(main(args.employees, args.connections))
    out = Path(REPO_ROOT) / "bench-results" / "notification.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
