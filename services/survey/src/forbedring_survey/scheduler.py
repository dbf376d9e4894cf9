"""Time-based work: open due periods, close due periods, release groups of responses,
send participation counts. Safe with several replicas:

- opening locks due periods with `FOR UPDATE SKIP LOCKED`: a replica skips what another
  is opening and, once that commits, the period is no longer due;
- closing and releasing take the period's release lock (a transaction advisory lock);
  a second replica closing the same period waits, then finds it closed;
- participation counts are sent under the same lock, recorded per unit in the database.

The clock is injectable (`Clock`); tests drive `tick()` with a settable clock.
"""

from collections.abc import Callable
from datetime import timedelta

from prometheus_client import Gauge

from forbedring_chassis import scheduler
from forbedring_chassis.clock import Clock
from forbedring_chassis.db import Sessions, unit_of_work
from forbedring_chassis.logging import get_logger
from forbedring_survey import participation, periods, release, repository
from forbedring_survey.errors import Conflict
from forbedring_survey.settings import SurveySettings

log = get_logger(__name__)

PERIODS_WAITING_TO_OPEN = Gauge(
    "forbedring_survey_periods_waiting_to_open",
    "Periods due to open that cannot yet (no organisation imported, or another period of "
    "the organisation still open), as this replica's scheduler last saw them",
    registry=None,
)


class Scheduler(scheduler.Scheduler):
    failure_event = "survey.scheduler.tick_failed"

    def __init__(
        self,
        *,
        sessions: Sessions,
        clock: Clock,
        settings: SurveySettings,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(
            sessions=sessions,
            clock=clock,
            interval_s=settings.scheduler_interval_s,
            wake=wake,
            last_tick_s=settings.shutdown_grace_s,
        )
        self._settings = settings
        self._postponed: dict[str, str] = {}

    def _waiting_to_open(self, period_id: str, reason: str | None) -> None:
        """Say once when a due period cannot open, and when it no longer waits (ticking
        every second, a warning per tick was thousands of lines an hour); the gauge says
        how many wait meanwhile."""
        before = self._postponed.get(period_id)
        if reason is not None and reason != before:
            log.warning("survey.period.open_postponed", period_id=period_id, reason=reason)
        if reason is None:
            self._postponed.pop(period_id, None)
            if before is not None:
                log.info("survey.period.opened_after_waiting", period_id=period_id)
        else:
            self._postponed[period_id] = reason
        PERIODS_WAITING_TO_OPEN.set(len(self._postponed))

    async def tick(self) -> None:
        """Do whatever is due now, each piece in its own transaction."""
        now = self._clock.now()
        async with unit_of_work(self._sessions) as session:
            for period in await repository.lock_due_periods(session, status="scheduled", now=now):
                self._waiting_to_open(
                    period.id, await periods.open_period(session, period=period, now=now)
                )
        async with unit_of_work(self._sessions) as session:
            due = [
                p.id
                for p in await repository.list_periods(session)
                if p.status == "open" and p.closes_at <= now
            ]
        for period_id in due:
            try:
                async with unit_of_work(self._sessions) as session:
                    await periods.close_period(session, period_id=period_id, now=now)
            except Conflict:
                pass  # another replica closed it first
        async with unit_of_work(self._sessions) as session:
            open_ids = await repository.open_period_ids(session)
        for period_id in open_ids:
            async with unit_of_work(self._sessions) as session:
                if not await repository.lock_release(session, period_id=period_id, wait=False):
                    continue
                current = await repository.get_period(session, period_id=period_id)
                if current is None or current.status != "open":
                    continue
                await release.release_ready(session, period=current, today=now.date())
                await participation.send_changes(
                    session,
                    period_id=period_id,
                    now=now,
                    min_interval=timedelta(seconds=self._settings.participation_interval_s),
                )
        self._wake()
