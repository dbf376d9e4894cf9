"""Periods on the injectable clock: create, open at opens_at, release groups of k, close
at closes_at with totals equal to what was released; two scheduler replicas."""

import asyncio
from datetime import timedelta
from typing import Any

from forbedring_chassis.db import make_engine, make_sessions
from forbedring_contracts import envelope, topics
from forbedring_contracts.events import (
    DirectoryUpdated,
    ParticipationChanged,
    PeriodClosed,
    PeriodOpened,
    ResponseSubmitted,
)
from forbedring_survey.scheduler import Scheduler
from forbedring_survey.testing import HR_ADMIN, people_of, small_organisation

from .conftest import Harness


def decoded(records: list[Any]) -> list[Any]:
    return [envelope.decode(r.value, r.headers).event for r in records]


async def test_a_period_gets_defaults_and_needs_a_known_questionnaire(harness: Harness) -> None:
    period = await harness.api.create_period(opens_at=harness.clock.now())
    opens = harness.clock.now()
    assert period["status"] == "scheduled"
    assert (period["k"], period["sensitive_k"]) == (5, 10)
    closes = period["closes_at"]
    assert closes.startswith((opens + timedelta(weeks=6)).date().isoformat())
    assert period["plan_deadline"].endswith("-06-30")

    reply = await harness.api.http.post(
        "/api/v1/periods",
        json={"name": "x", "opens_at": opens.isoformat(), "questionnaire_version": "1999.9"},
        headers=await harness.api.headers(HR_ADMIN),
    )
    assert reply.status_code == 422
    assert "1999.9" in reply.json()["detail"]["message"]


async def test_only_hr_admins_create_periods(harness: Harness) -> None:
    reply = await harness.api.http.post(
        "/api/v1/periods",
        json={
            "name": "x",
            "opens_at": harness.clock.now().isoformat(),
            "questionnaire_version": "2026.1",
        },
        headers=await harness.api.headers("e-a-0"),
    )
    assert reply.status_code == 403


async def test_the_scheduler_opens_releases_and_closes_on_the_clock(harness: Harness) -> None:
    organisation = small_organisation({"a": 9, "b": 2})
    start = harness.clock.now()
    period = await harness.api.create_period(
        opens_at=start + timedelta(hours=1), closes_at=start + timedelta(days=2)
    )
    period_id = period["id"]
    assert (await harness.api.import_json(period_id, organisation)).status_code == 201

    await harness.tick()
    assert (await harness.api.period(period_id))["status"] == "scheduled"
    harness.clock.advance(timedelta(hours=1))
    await harness.tick()
    assert (await harness.api.period(period_id))["status"] == "open"
    # frozen once open
    again = await harness.api.import_json(period_id, organisation)
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "organisation_frozen"

    a, b = people_of(organisation, "a"), people_of(organisation, "b")
    for person in a[:4]:
        await harness.api.answer(person)
    await harness.tick()
    assert len(await harness.sql("SELECT * FROM responses")) == 0  # 4 < k
    for person in [*a[4:7], *b]:
        await harness.api.answer(person)
    await harness.tick()
    released = await harness.sql("SELECT unit_id FROM responses")
    assert sorted(r["unit_id"] for r in released) == ["a"] * 7  # b holds 2 < k
    for person in a[7:]:
        await harness.api.answer(person)

    harness.clock.advance(timedelta(days=2))
    await harness.tick()

    assert (await harness.api.period(period_id))["status"] == "closed"
    records = await harness.events(expect=1 + 1 + 11 + 1)
    events = decoded(records)
    assert sum(isinstance(e, PeriodOpened) for e in events) == 1
    assert sum(isinstance(e, DirectoryUpdated) for e in events) == 1
    responses = [e for e in events if isinstance(e, ResponseSubmitted)]
    closed = [e for e in events if isinstance(e, PeriodClosed)]
    assert len(closed) == 1
    assert closed[0].totals == {"root": 0, "a": 9, "b": 2}
    assert len(responses) == sum(closed[0].totals.values())
    opened = next(e for e in events if isinstance(e, PeriodOpened))
    assert {u.unit_id: u.eligible for u in opened.units} == {"root": 0, "a": 9, "b": 2}
    assert opened.questionnaire.items
    directory = next(e for e in events if isinstance(e, DirectoryUpdated))
    assert [(r.person_id, r.role) for r in directory.roles] == [(HR_ADMIN, "hr_admin")]
    # Every invited person, per unit, for plans and mail: and nothing about who answered.
    assert sorted((m.unit_id, m.person_id) for m in directory.members) == sorted(
        [("a", p) for p in a] + [("b", p) for p in b]
    )
    assert set(directory.model_dump()["members"][0]) == {
        "person_id",
        "unit_id",
        "name",
        "email",
        "language",
    }
    participation = [e for e in events if isinstance(e, ParticipationChanged)]
    assert {(e.unit_id, e.respondents) for e in participation} >= {("a", 7), ("b", 2)}
    # period-closed comes after every response of the period on the bus
    closed_offset = next(
        r for r in records if r.topic == harness.topic_prefix + topics.PERIOD_CLOSED
    )
    assert all(
        r.timestamp <= closed_offset.timestamp
        for r in records
        if r.topic == harness.topic_prefix + topics.RESPONSE_SUBMITTED
    )


async def test_an_hr_admin_closes_early_and_the_rest_is_released_first(harness: Harness) -> None:
    organisation = small_organisation({"a": 3})
    period = await harness.api.create_period(opens_at=harness.clock.now())
    await harness.api.import_json(period["id"], organisation)
    await harness.tick()
    for person in people_of(organisation, "a")[:2]:
        await harness.api.answer(person)
    reply = await harness.api.http.post(
        f"/api/v1/periods/{period['id']}/close", headers=await harness.api.headers("e-a-2")
    )
    assert reply.status_code == 403
    closed = await harness.api.close(period["id"])
    assert closed["totals"] == {"root": 0, "a": 2}
    assert await harness.sql("SELECT * FROM pending_responses") == []
    again = await harness.api.http.post(
        f"/api/v1/periods/{period['id']}/close", headers=await harness.api.headers(HR_ADMIN)
    )
    assert again.status_code == 409


async def test_one_open_period_per_organisation(harness: Harness) -> None:
    organisation = small_organisation({"a": 1})
    first = await harness.api.create_period(opens_at=harness.clock.now())
    second = await harness.api.create_period(opens_at=harness.clock.now())
    for period in (first, second):
        assert (await harness.api.import_json(period["id"], organisation)).status_code == 201
    await harness.tick()
    statuses = sorted([(await harness.api.period(p["id"]))["status"] for p in (first, second)])
    assert statuses == ["open", "scheduled"]
    await harness.tick()
    opened = decoded(await harness.events(topics.PERIOD_OPENED, expect=1))
    assert len(opened) == 1


async def test_two_scheduler_replicas_open_a_period_once(harness: Harness) -> None:
    organisation = small_organisation({"a": 5})
    period = await harness.api.create_period(opens_at=harness.clock.now() + timedelta(minutes=5))
    await harness.api.import_json(period["id"], organisation)
    engines = [make_engine(harness.settings.database_url) for _ in range(2)]
    replicas = [
        Scheduler(sessions=make_sessions(engine), clock=harness.clock, settings=harness.settings)
        for engine in engines
    ]
    try:
        harness.clock.advance(timedelta(minutes=5))
        await asyncio.gather(*(replica.tick() for replica in replicas for _ in range(3)))
        for person in people_of(organisation, "a"):
            await harness.api.answer(person)
        harness.clock.advance(timedelta(weeks=7))
        await asyncio.gather(*(replica.tick() for replica in replicas for _ in range(3)))
    finally:
        for engine in engines:
            await engine.dispose()
    harness.runtime.relay.wake()
    events = decoded(await harness.events(expect=1 + 1 + 5 + 1 + 1))
    assert sum(isinstance(e, PeriodOpened) for e in events) == 1
    assert sum(isinstance(e, DirectoryUpdated) for e in events) == 1
    assert sum(isinstance(e, PeriodClosed) for e in events) == 1
    assert sum(isinstance(e, ResponseSubmitted) for e in events) == 5
