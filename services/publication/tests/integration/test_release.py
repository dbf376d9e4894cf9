"""The release schedule on the real broker and PostgreSQL: each stage is released once,
with two scheduler replicas racing and across a restart; HR admins postpone stages
within the rules; results count as finalised only when complete and matching."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from forbedring_chassis.db import make_engine, make_sessions
from forbedring_chassis.testing import Infrastructure
from forbedring_publication.scheduler import Scheduler
from services.publication.tests.integration.conftest import (
    STAGE_1_DELAY,
    STAGE_2_DELAY,
    an_org,
    mine,
    released_events,
)


@pytest.mark.infra
async def test_each_stage_is_released_once_by_racing_replicas_and_after_a_restart(
    publication: Any, produce: Any, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    org = an_org()
    async with publication() as app:
        database_url = app.settings.database_url
        await produce([org.opened, org.directory, *org.results, org.finalized])
        await app.wait_until(org.period_id, lambda s: s.get("finalised") is True)

        # Two more replicas, each with its own connection pool, race the app's scheduler.
        engines = [make_engine(database_url) for _ in range(2)]
        replicas = [
            Scheduler(
                sessions=make_sessions(engine),
                clock=app.clock,
                cache=app.cache,
                interval_s=1,
            )
            for engine in engines
        ]
        schedulers = [app.scheduler, *replicas]
        try:
            for moment in (
                org.finalized.finalized_at + STAGE_1_DELAY,
                org.finalized.finalized_at + STAGE_1_DELAY + STAGE_2_DELAY,
            ):
                app.clock.set(moment)
                rounds = await asyncio.gather(*(s.tick() for s in schedulers for _ in range(10)))
                assert sum(len(mine(released, org.period_id)) for released in rounds) == 1
        finally:
            for engine in engines:
                await engine.dispose()

    # A restart (its scheduler running on its own) releases nothing again.
    async with publication(database_url=database_url, scheduler_enabled=True) as again:
        again.clock.set(org.finalized.finalized_at + timedelta(days=30))
        # Its scheduler, a tick after the restart with both stages long due, finds them
        # released (this fails if a restart forgot what was released).
        assert mine(await again.scheduler.tick(), org.period_id) == []
        schedule = await again.schedule(org.period_id)
        assert schedule["released_stage"] == 2

    events = await released_events(infrastructure, topic_prefix, org.period_id)
    assert sorted(e["stage"] for e in events) == [1, 2]
    stage_1 = next(e for e in events if e["stage"] == 1)
    assert set(stage_1["audience"]) == {"leader", "safety_rep", "union_rep", "hr_admin"}
    stage_2 = next(e for e in events if e["stage"] == 2)
    assert "employee" in stage_2["audience"]


@pytest.mark.infra
async def test_hr_admins_postpone_stages_that_have_not_happened(
    publication: Any, produce: Any
) -> None:
    org = an_org()
    start = org.finalized.finalized_at
    base = f"/api/v1/periods/{org.period_id}/stages"
    async with publication() as app:
        await produce([org.opened, org.directory, *org.results, org.finalized])
        await app.wait_until(org.period_id, lambda s: s.get("finalised") is True)
        app.clock.set(start)

        def at(delta: timedelta) -> dict[str, str]:
            return {"until": (start + delta).isoformat()}

        refused = await app.post(f"{base}/1/postpone", "leader", at(timedelta(days=2)))
        assert refused.status_code == 403

        # Stage 1 past stage 2: refused with a clear message; postpone stage 2 first.
        late = await app.post(f"{base}/1/postpone", "hr_admin", at(timedelta(days=10)))
        assert late.status_code == 422
        assert "Stage 2 can never come before stage 1" in late.json()["detail"]["message"]
        assert (await app.post(f"{base}/2/postpone", "hr_admin", at(timedelta(days=12)))).is_success
        moved = await app.post(f"{base}/1/postpone", "hr_admin", at(timedelta(days=10)))
        assert moved.status_code == 200, moved.text
        assert moved.json()["stages"][0]["at"] == (start + timedelta(days=10)).isoformat()

        earlier = await app.post(f"{base}/2/postpone", "hr_admin", at(timedelta(days=11)))
        assert earlier.status_code == 422
        assert "not brought forward" in earlier.json()["detail"]["message"]
        naive = await app.post(f"{base}/2/postpone", "hr_admin", {"until": "2030-01-01T00:00"})
        assert naive.status_code == 422

        # The old stage-1 time passes: nothing is released.
        app.clock.set(start + STAGE_1_DELAY)
        assert mine(await app.scheduler.tick(), org.period_id) == []
        app.clock.set(start + timedelta(days=10))
        assert [r.stage for r in mine(await app.scheduler.tick(), org.period_id)] == [1]
        again = await app.post(f"{base}/1/postpone", "hr_admin", at(timedelta(days=11)))
        assert again.status_code == 409
        assert "already been released" in again.json()["detail"]["message"]
        app.clock.set(start + timedelta(days=12))
        assert [r.stage for r in mine(await app.scheduler.tick(), org.period_id)] == [2]


@pytest.mark.infra
async def test_results_are_not_finalised_until_complete_and_matching(
    publication: Any, produce: Any
) -> None:
    wrong = an_org(stage_1_delay=timedelta(0))
    wrong.finalized = wrong.finalized.model_copy(update={"checksum": "0" * 64})
    late = an_org(stage_1_delay=timedelta(0))
    async with publication() as app:
        app.clock.set(late.finalized.finalized_at)
        # unit-results may arrive after results-finalized (other partitions)
        await produce([wrong.opened, wrong.directory, wrong.finalized, *wrong.results])
        await produce([late.opened, late.directory, late.finalized, *late.results[:2]])
        await app.wait_until(
            wrong.period_id, lambda s: s.get("units_received") == len(wrong.results)
        )
        await app.wait_until(late.period_id, lambda s: s.get("units_received") == 2)
        released = await app.scheduler.tick()
        assert mine(released, wrong.period_id) == mine(released, late.period_id) == []
        assert not (await app.schedule(wrong.period_id))["finalised"]
        assert not (await app.schedule(late.period_id))["finalised"]

        await produce(late.results[2:])
        await app.wait_until(late.period_id, lambda s: s.get("finalised") is True)
        assert [r.stage for r in mine(await app.scheduler.tick(), late.period_id)] == [1]
        reply = await app.get(f"/api/v1/periods/{late.period_id}/units", "union_rep")
        assert reply.status_code == 200
        assert (
            await app.get(f"/api/v1/periods/{wrong.period_id}/units", "union_rep")
        ).status_code == 403


@pytest.mark.infra
async def test_the_periods_own_delays_apply_when_period_opened_comes_last(
    publication: Any, produce: Any
) -> None:
    org = an_org()
    org.opened = org.opened.model_copy(update={"stage_1_delay": timedelta(days=3)})
    async with publication(default_stage_1_delay_s=0) as app:
        await produce([org.directory, *org.results, org.finalized])
        await app.wait_until(org.period_id, lambda s: s.get("finalised") is True)
        first = (await app.schedule(org.period_id))["stages"][0]["at"]
        assert first == org.finalized.finalized_at.isoformat()

        await produce([org.opened])
        three_days = (org.finalized.finalized_at + timedelta(days=3)).isoformat()
        await app.wait_until(org.period_id, lambda s: s["stages"][0]["at"] == three_days)
        stage_2 = (await app.schedule(org.period_id))["stages"][1]["at"]
        assert (
            stage_2 == (org.finalized.finalized_at + timedelta(days=3) + STAGE_2_DELAY).isoformat()
        )
