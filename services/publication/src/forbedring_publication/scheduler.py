"""Releases due stages. Safe with several replicas and across restarts: due periods are
locked with FOR UPDATE SKIP LOCKED and a stage's release time is committed together
with its results-released event (outbox), so a stage is released exactly once. The
clock is injectable; tests call `tick()` with a settable clock."""

from collections.abc import Callable

from forbedring_chassis import scheduler
from forbedring_chassis.clock import Clock
from forbedring_chassis.db import Sessions, unit_of_work
from forbedring_chassis.logging import get_logger
from forbedring_publication import release
from forbedring_publication.cache import ReportCache

log = get_logger(__name__)


class Scheduler(scheduler.Scheduler):
    failure_event = "publication.scheduler.tick_failed"

    def __init__(
        self,
        *,
        sessions: Sessions,
        clock: Clock,
        cache: ReportCache,
        interval_s: float,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(sessions=sessions, clock=clock, interval_s=interval_s, wake=wake)
        self._cache = cache

    async def tick(self) -> list[release.Released]:
        async with unit_of_work(self._sessions) as session:
            released = await release.release_due(session, now=self._clock.now())
        if released:
            self._wake()
            for period_id in sorted({r.period_id for r in released}):
                await self._cache.invalidate_period(period_id)
        return released
