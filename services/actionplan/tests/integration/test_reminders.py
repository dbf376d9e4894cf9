"""Deadline reminders on the real PostgreSQL and Kafka: the clock moves day by day over
every threshold with two replicas ticking at once; one replica is restarted between
thresholds; a measure's deadline is moved half-way. Each (subject, deadline, threshold)
is sent exactly once, in the scheduler's answers and on the broker."""

import asyncio
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any

from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import Infrastructure
from forbedring_contracts import topics
from services.actionplan.tests.integration.conftest import published
from services.actionplan.tests.integration.test_plans import measure
from services.actionplan.tests.org import HIDDEN_FIGURES, PEOPLE, an_org


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


async def test_each_threshold_once_with_two_replicas_a_restart_and_a_moved_deadline(
    actionplan: Any, produce: Any, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    org = an_org()
    start = date(2027, 3, 1)
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(actionplan(clock=SettableClock(at(start))))
        plan = await a.opened_plan(produce, org)
        created = await a.send(
            "POST",
            f"/api/v1/plans/{plan['plan_id']}/measures",
            "leader",
            measure(deadline="2027-04-30", responsible_person_id=PEOPLE["employee"]),
        )
        m = created.json()
        b_stack = AsyncExitStack()
        b = await b_stack.enter_async_context(
            actionplan(database_url=a.settings.database_url, clock=SettableClock(at(start)))
        )
        sent: list[tuple[str, int]] = []
        keys: list[tuple[str, date, int]] = []
        day = start
        while day <= date(2027, 7, 3):
            for replica in (a, b):
                replica.clock.set(at(day))
            ticks = await asyncio.gather(a.scheduler.tick(), b.scheduler.tick())
            # other tests' periods share the topics: count only this one's
            results = [[s for s in r if s.period_id == org.period_id] for r in ticks]
            sent += [(s.subject_id, s.threshold) for r in results for s in r]
            keys += [(s.subject_id, s.deadline, s.threshold) for r in results for s in r]
            if day == date(2027, 4, 20):  # 30 and 14 sent; 10 days left
                moved = await a.send(
                    "PATCH",
                    f"/api/v1/plans/{plan['plan_id']}/measures/{m['measure_id']}",
                    "leader",
                    {"revision": m["revision"], "deadline": "2027-05-10"},
                )
                assert moved.status_code == 200, moved.text
            if day == date(2027, 6, 20):  # between 14 and 7: restart one replica
                await b_stack.aclose()
                b_stack = AsyncExitStack()
                b = await b_stack.enter_async_context(
                    actionplan(database_url=a.settings.database_url, clock=SettableClock(at(day)))
                )
                again = [s for s in await b.scheduler.tick() if s.period_id == org.period_id]
                assert again == [], "a restart sends nothing again"
            day += timedelta(days=1)
        await b_stack.aclose()
        await a.outbox_empty()

    assert max(Counter(keys).values()) == 1, "no reminder twice"
    measure_sent = sorted(t for s, t in sent if s == m["measure_id"])
    # 30 and 14 for 30 April; after the move to 10 May (20 days left) 30 is behind it.
    assert measure_sent == [0, 1, 7, 14, 14, 30]
    plans = {s for s, _ in sent if s != m["measure_id"]}
    assert len(plans) == len(org.opened.units)
    assert all(sorted(t for s, t in sent if s == p) == [0, 1, 7, 14, 30] for p in plans)

    events = await published(
        infrastructure, topic_prefix, topics.PLAN_DEADLINE_APPROACHING, org.period_id
    )
    keyed = Counter(
        (e["measure_id"] or e["plan_id"], e["deadline"], e["threshold_days"]) for e in events
    )
    assert max(keyed.values()) == 1
    assert len(events) == len(sent)
    mine = [e for e in events if e["measure_id"] == m["measure_id"]]
    assert sorted((e["deadline"], e["threshold_days"]) for e in mine) == [
        ("2027-04-30", 14),
        ("2027-04-30", 30),
        ("2027-05-10", 0),
        ("2027-05-10", 1),
        ("2027-05-10", 7),
        ("2027-05-10", 14),
    ]
    first = next(e for e in mine if e["threshold_days"] == 30)
    assert (first["days_left"], first["overdue"]) == (30, False)
    assert first["responsible_person_ids"] == [PEOPLE["employee"]]
    assert first["leader_person_ids"] == [PEOPLE["leader"]]
    overdue = next(
        e
        for e in events
        if e["plan_id"] == plan["plan_id"] and e["subject"] == "plan" and e["overdue"]
    )
    assert (overdue["days_overdue"], overdue["threshold_days"]) == (1, 0)
    assert overdue["parent_leader_person_ids"] == [PEOPLE["leader_above"]]
    assert overdue["missing"] == ["staff_discussion"]
    assert [n for n in HIDDEN_FIGURES if n in str(events)] == []
