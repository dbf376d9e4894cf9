"""Writes the reminders and digests due now. Safe with several replicas: a tick takes a
transaction-level advisory lock (another replica's tick skips), and every row's key names
its reminder or its day, so a tick run twice writes nothing twice. Tests call `tick()`
with a settable clock."""

from collections.abc import Callable

from sqlalchemy import text

from forbedring_chassis import scheduler
from forbedring_chassis.clock import Clock
from forbedring_chassis.db import Sessions, unit_of_work
from forbedring_notification import scheduled

_LOCK = 0x6E6F7469  # "noti"


class Scheduler(scheduler.Scheduler):
    failure_event = "notification.scheduler.tick_failed"

    def __init__(
        self,
        *,
        sessions: Sessions,
        clock: Clock,
        rules: scheduled.Rules,
        interval_s: float,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(sessions=sessions, clock=clock, interval_s=interval_s, wake=wake)
        self._rules = rules

    async def tick(self) -> int:
        async with unit_of_work(self._sessions) as session:
            locked = (
                await session.exec(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), params={"key": _LOCK}
                )  # type: ignore[call-overload]
            ).scalar_one()
            if not locked:
                return 0
            written = await scheduled.due_mail(session, now=self._clock.now(), rules=self._rules)
        if written:
            self._wake()
        return written
