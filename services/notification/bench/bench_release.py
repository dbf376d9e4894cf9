"""Notification benchmark: the stage-2 release to 12,000 employees, on the real Kafka and
PostgreSQL, delivered to a real SMTP server (aiosmtpd, in this process's thread); figures,
not assertions.

    source <(deploy/local/infra.sh env)
    PYTHONPATH=. uv run python services/notification/bench/bench_release.py \
        [--employees 12000] [--connections 4] [--rounds 2]

The service runs in this process (its consumer, ledger and mail relay as in production,
on a fresh database and fresh topics). Each round reads in a new period's directory of
`--employees` people, then produces its results-released (stage 2) and the clock runs
until the last email arrives. Right after, in the same round, a bare aiosmtplib loop
sends the same messages (as received) over one connection to a fresh server of the same
kind, also in this process. Reported per round: both rates, their ratio (goal >= 0.5),
duplicates (Message-IDs received twice: goal 0), the time from results-released to the
last email delivered; and the spread of the baseline and of the ratio over the rounds
(on a shared machine the baseline itself moves a lot, so only the ratio in one round
means anything).

Writes `bench-results/notification.json` (repository root).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
from asgi_lifespan import LifespanManager

from forbedring_chassis.testing import (
    REPO_ROOT,
    SendEvents,
    bench_settings,
    consumed,
    event_producer,
    locate_infrastructure,
)
from forbedring_contracts.events import ResultsReleased
from forbedring_notification.app import create_app
from forbedring_notification.consumers import CONSUMED_TOPICS
from forbedring_notification.settings import NotificationSettings
from services.notification.tests.org import a_large_trust
from services.notification.tests.smtp import Received, SmtpServer


async def all_consumed(settings: NotificationSettings) -> None:
    """Until every event on the topics the service reads is applied and committed."""
    topics = [settings.kafka_topic_prefix + topic for topic in CONSUMED_TOPICS]
    await consumed(settings.kafka_bootstrap_servers, settings.group_id, topics, timeout=900)


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


async def release(
    send: SendEvents, settings: NotificationSettings, server: SmtpServer, employees: int
) -> tuple[float, list[Received]]:
    """One round: a new period's directory read in first (weeks before, in life), then
    its stage-2 release; the seconds from producing it to the last email delivered."""
    period_id = f"bench-{uuid.uuid4().hex[:6]}"
    await send([a_large_trust(period_id, employees)])
    await all_consumed(settings)
    already = server.mailbox.count()
    released = ResultsReleased(
        period_id=period_id,
        stage=2,
        audience=("leader", "safety_rep", "union_rep", "hr_admin", "employee"),
        released_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    started = time.perf_counter()
    await send([released])
    await server.wait_for(already + employees, timeout=900)
    elapsed = time.perf_counter() - started
    # Nothing more comes: the ledger has nothing left to send.
    await all_consumed(settings)
    return elapsed, server.mailbox.snapshot()[already:]


async def one_round(
    send: SendEvents,
    settings: NotificationSettings,
    server: SmtpServer,
    employees: int,
    number: int,
) -> dict[str, object]:
    """One release, then the baseline right after in the same conditions: the same
    messages as received, over one connection, to a fresh server of the same kind."""
    total_s, received = await release(send, settings, server, employees)
    ids = Counter(m.message["Message-ID"] for m in received)
    raws = [(m.sender, m.recipients[0], m.raw) for m in received]
    baseline = SmtpServer().start()
    try:
        bare_s = await bare_loop(baseline.port, raws)
    finally:
        baseline.stop()
    service_rate = len(received) / total_s  # from the release: fan-out included
    bare_rate = len(raws) / bare_s
    return {
        "round": number,
        "emails_received": len(received),
        "distinct_message_ids": len(ids),
        "duplicates": sum(count - 1 for count in ids.values()),
        "release_to_last_email_s": round(total_s, 2),
        "service_rate_per_s": round(service_rate, 1),
        "bare_aiosmtplib_rate_per_s": round(bare_rate, 1),
        "ratio_to_bare": round(service_rate / bare_rate, 2),
    }


async def main(employees: int, connections: int, rounds: int) -> dict[str, object]:
    server = SmtpServer().start()
    try:
        async with bench_settings(
            NotificationSettings,
            smtp_port=server.port,
            send_rate_per_s=0,
            relay_connections=connections,
            relay_poll_interval_s=0.2,
        ) as settings:
            results: list[dict[str, object]] = []
            app = create_app(settings)
            # A directory of 12,000 people is a few MB: more than the client's default request.
            async with (
                LifespanManager(app, startup_timeout=60, shutdown_timeout=60),
                event_producer(
                    locate_infrastructure(), settings.kafka_topic_prefix, max_request_size=16 << 20
                ) as send,
            ):
                for number in range(1, rounds + 1):
                    results.append(await one_round(send, settings, server, employees, number))
                    print(json.dumps(results[-1]), flush=True)
            batch_size = settings.relay_batch_size
    finally:
        server.stop()
    bare = [float(str(r["bare_aiosmtplib_rate_per_s"])) for r in results]
    ratios = [float(str(r["ratio_to_bare"])) for r in results]
    return {
        "benchmark": "notification stage-2 release",
        "when": datetime.now(UTC).isoformat(),
        "employees": employees,
        "relay_connections": connections,
        "relay_batch_size": batch_size,
        "rounds": results,
        "duplicates": sum(int(str(r["duplicates"])) for r in results),
        "bare_rate_min_max_per_s": [min(bare), max(bare)],
        "ratio_min_median_max": [min(ratios), statistics.median(ratios), max(ratios)],
        "goal": "ratio >= 0.5 with zero duplicates",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=12_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    figures = asyncio.run(main(args.employees, args.connections, args.rounds))
    out = Path(REPO_ROOT) / "bench-results" / "notification.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
