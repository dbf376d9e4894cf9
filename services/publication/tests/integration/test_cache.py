"""Report data in Redis: computed once per key under concurrent load, also across
replicas, and dropped when a stage is released."""

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from forbedring_chassis.testing import Infrastructure, unique_name
from forbedring_publication.cache import ReportCache
from services.publication.tests.integration.conftest import STAGE_1_DELAY, an_org


@pytest.mark.infra
async def test_500_concurrent_first_requests_compute_the_report_once(
    publication: Any, produce: Any
) -> None:
    org = an_org()
    async with publication() as app:
        await produce([org.opened, org.directory, *org.results, org.finalized])
        await app.wait_until(org.period_id, lambda s: s.get("finalised") is True)
        app.clock.set(org.finalized.finalized_at + STAGE_1_DELAY)
        await app.scheduler.tick()

        path = f"/api/v1/periods/{org.period_id}/units/S-PUB/results?lang=en"
        roles = ("leader", "safety_rep", "union_rep", "hr_admin")
        replies = await asyncio.gather(*(app.get(path, roles[i % 4]) for i in range(500)))
        assert {r.status_code for r in replies} == {200}
        assert len({r.content for r in replies}) == 1
        key = app.cache.key(period_id=org.period_id, unit_id="S-PUB", stage=1, language="en")
        assert app.cache.computations == {key: 1}

        # The release of stage 2 drops the period's cached data; stage 2 computes anew.
        app.clock.set(org.finalized.finalized_at + STAGE_1_DELAY * 8)
        await app.scheduler.tick()
        redis = app.app.state.runtime.redis
        assert await redis.get(key) is None
        again = await app.get(path, "employee")
        assert again.status_code == 200
        assert again.json()["stage"] == 2


@pytest.mark.infra
async def test_two_replicas_share_one_computation(infrastructure: Infrastructure) -> None:
    redis = Redis.from_url(infrastructure.redis_url)
    namespace = f"{unique_name('cache')}:"
    replicas = [
        ReportCache(redis=redis, namespace=namespace, ttl_s=60, lock_ttl_s=10, wait_s=10)
        for _ in range(2)
    ]
    key = replicas[0].key(period_id="p", unit_id="u", stage=1, language="nb")

    async def slow() -> bytes:
        await asyncio.sleep(0.3)
        return b'{"ok": true}'

    try:
        values = await asyncio.gather(
            *(replicas[i % 2].get_or_compute(key, slow) for i in range(200))
        )
        assert set(values) == {b'{"ok": true}'}
        assert sum(r.computations[key] for r in replicas) == 1
        assert await replicas[1].invalidate_period("p") == 1
        assert await redis.get(key) is None
    finally:
        await redis.aclose()
