"""Actionplan killed in the middle of its work (a real process), twice over, on one
database. The first dies the worst way while it opens the plans of a released period (the
chassis crash point `after-outbox-publish`: the plans committed, their events on the broker,
still in its outbox); the second is SIGKILLed as soon as its reminder pass has put the
first deadline reminder on the broker (the plan deadline is ten days off by the system
clock, so every plan is due its 14-day reminder); a third finishes. Every unit has exactly
one plan, and each plan's opening and each (plan, threshold) reminder is one event in effect:
the copies the relay sends again after a crash carry the same event id. A second case makes
the other moment of the reminder pass certain: it dies with its reminders in flight."""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from forbedring_chassis.faults import CRASH_ENV
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    event_producer,
    eventually,
    plain_url,
    unique_name,
)
from forbedring_contracts import topics
from services.actionplan.tests.org import Org, an_org
from tests.faults.broker import records_of
from tests.faults.outcomes import record_outcome

DEADLINE_IN = timedelta(days=10)  # inside the 14-day threshold, outside the 7-day one


async def _events(servers: str, topic: str, period_id: str) -> dict[str, list[str]]:
    """Per subject (a measure, else a plan) and threshold if any, the event id of every
    record of `period_id` on the topic now."""
    found: dict[str, list[str]] = defaultdict(list)
    for record in await records_of(servers, [topic], period_id):
        body = record.body
        subject = body.get("measure_id") or body["plan_id"]
        key = f"{subject}@{body['threshold_days']}" if "threshold_days" in body else subject
        found[key].append(record.event_id)
    return dict(found)


async def _plans_per_unit(database_url: str, period_id: str) -> dict[str, int]:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT unit_id, count(*) AS n FROM actionplan_plans WHERE period_id = $1"
            " GROUP BY unit_id",
            period_id,
        )
    finally:
        await connection.close()
    return {row["unit_id"]: int(row["n"]) for row in rows}


async def _outbox_rows(database_url: str) -> int:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await connection.close()


@dataclass
class Trust:
    """A released period whose plan deadline is DEADLINE_IN off by the system clock, and
    actionplan launched on one database and consumer group, as often as a test likes."""

    org: Org
    database_url: str
    launch_service: Any
    topic_prefix: str
    group: str = field(default_factory=lambda: unique_name("actionplan"))

    @property
    def units(self) -> set[str]:
        return {u.unit_id for u in self.org.opened.units}

    async def launch(
        self, *, scheduler: bool = True, crash_at: str | None = None, wait_ready: bool = True
    ) -> Any:
        return await self.launch_service(
            "actionplan",
            wait_ready=wait_ready,
            database_url=self.database_url,
            consumer_group=self.group,
            topics=self.topic_prefix,
            extra_env={
                "ACTIONPLAN_SCHEDULER_ENABLED": str(scheduler).lower(),
                "ACTIONPLAN_SCHEDULER_INTERVAL_S": "0.05",
                "ACTIONPLAN_OUTBOX_POLL_INTERVAL_S": "0.05",
                **({CRASH_ENV: crash_at} if crash_at else {}),
            },
        )


@pytest.fixture
async def trust(launch_service: Any, databases: Databases, private_topic_prefix: str) -> Trust:
    org = an_org()
    deadline = (datetime.now(UTC) + DEADLINE_IN).date()
    org = replace(org, opened=org.opened.model_copy(update={"plan_deadline": deadline}))
    return Trust(org, await databases.create("actionplan"), launch_service, private_topic_prefix)


async def test_actionplan_killed_mid_opening_and_mid_reminders_does_everything_once(
    trust: Trust, infrastructure: Infrastructure, private_topic_prefix: str
) -> None:
    servers = infrastructure.kafka_bootstrap_servers
    opened_topic = private_topic_prefix + topics.PLAN_UPDATED
    reminder_topic = private_topic_prefix + topics.PLAN_DEADLINE_APPROACHING
    org, units, database_url, launch = trust.org, trust.units, trust.database_url, trust.launch

    first = await launch(crash_at="after-outbox-publish")
    async with event_producer(infrastructure, private_topic_prefix) as send:
        await send(org.events())
    # It dies at its first relay pass that publishes anything: the plans' opening (or,
    # if its scheduler got there first in the same pass, their reminders too).
    assert first.exit_code(timeout=120) == 137
    opened_at_crash = await _events(servers, opened_topic, org.period_id)
    assert await _plans_per_unit(database_url, org.period_id) == dict.fromkeys(units, 1)

    second = await launch()

    async def a_reminder_sent() -> bool:
        return bool(await _events(servers, reminder_topic, org.period_id))

    await eventually(a_reminder_sent, timeout=120, interval=0.2)
    second.process.kill()  # SIGKILL mid-pass, or just after it
    assert second.exit_code(timeout=30) == -9
    reminded_at_kill = await _events(servers, reminder_topic, org.period_id)

    last = await launch()

    async def every_plan_reminded() -> bool:
        reminded = await _events(servers, reminder_topic, org.period_id)
        return len({key.split("@")[0] for key in reminded}) == len(units)

    await eventually(every_plan_reminded, timeout=120, interval=0.5)
    opened = await _events(servers, opened_topic, org.period_id)
    reminded = await _events(servers, reminder_topic, org.period_id)
    last.stop()
    plans = await _plans_per_unit(database_url, org.period_id)
    assert plans == dict.fromkeys(units, 1), f"not one plan per unit: {plans}"
    assert len(opened) >= len(units), f"a plan without its opening on the broker: {opened}"
    assert all(len(set(ids)) == 1 for ids in opened.values()), f"opened twice: {opened}"
    assert {key.split("@")[1] for key in reminded} == {"14"}, reminded
    assert all(len(set(ids)) == 1 for ids in reminded.values()), f"reminded twice: {reminded}"
    record_outcome(
        "sigkill",
        "actionplan",
        units=len(units),
        plans=sum(plans.values()),
        plans_on_the_broker_at_crash=len(opened_at_crash),
        plan_records=sum(len(ids) for ids in opened.values()),
        plan_event_ids=sum(len(set(ids)) for ids in opened.values()),
        reminders_on_the_broker_at_kill=len(reminded_at_kill),
        reminder_records=sum(len(ids) for ids in reminded.values()),
        reminder_event_ids=sum(len(set(ids)) for ids in reminded.values()),
    )


async def test_actionplan_dying_with_its_reminders_in_flight_sends_each_once_in_effect(
    trust: Trust, infrastructure: Infrastructure, private_topic_prefix: str
) -> None:
    """The other moment of a reminder pass, made certain: the plans open and go out in
    full (scheduler off); then a process dies at `after-outbox-publish` in its first relay
    pass, which holds only the reminders (on the broker, still in its outbox); the next is
    SIGKILLed as soon as it is up (sending them again, or just after); a last finishes."""
    servers = infrastructure.kafka_bootstrap_servers
    reminder_topic = private_topic_prefix + topics.PLAN_DEADLINE_APPROACHING
    org, units = trust.org, trust.units
    opening = await trust.launch(scheduler=False)
    async with event_producer(infrastructure, private_topic_prefix) as send:
        await send(org.events())

    async def opened_and_sent() -> bool:
        plans = await _plans_per_unit(trust.database_url, org.period_id)
        return len(plans) == len(units) and await _outbox_rows(trust.database_url) == 0

    await eventually(opened_and_sent, timeout=120, interval=0.5)
    opening.stop()
    assert await _events(servers, reminder_topic, org.period_id) == {}, "none yet"

    # Its first relay pass may crash it before it ever answers /readyz: wait for the exit.
    crashing = await trust.launch(crash_at="after-outbox-publish", wait_ready=False)
    assert crashing.exit_code(timeout=120) == 137
    at_crash = await _events(servers, reminder_topic, org.period_id)
    assert await _outbox_rows(trust.database_url) == len(at_crash), "still in its outbox"
    killed = await trust.launch()
    killed.process.kill()
    assert killed.exit_code(timeout=30) == -9
    last = await trust.launch()

    async def outbox_empty() -> bool:
        return await _outbox_rows(trust.database_url) == 0

    await eventually(outbox_empty, timeout=120, interval=0.5)
    reminded = await _events(servers, reminder_topic, org.period_id)
    last.stop()
    assert {key.split("@")[0] for key in at_crash} == {key.split("@")[0] for key in reminded}, (
        "every plan's reminder in the pass that crashed"
    )
    assert len({key.split("@")[0] for key in reminded}) == len(units)
    assert {key.split("@")[1] for key in reminded} == {"14"}, reminded
    assert all(len(ids) >= 2 for ids in reminded.values()), "each sent again after the crash"
    assert all(len(set(ids)) == 1 for ids in reminded.values()), f"reminded twice: {reminded}"
    record_outcome(
        "sigkill",
        "actionplan, reminders in flight",
        plans=len(units),
        reminders_on_the_broker_at_crash=len(at_crash),
        reminder_records=sum(len(ids) for ids in reminded.values()),
        reminder_event_ids=sum(len(set(ids)) for ids in reminded.values()),
    )
