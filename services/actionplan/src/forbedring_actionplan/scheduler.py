"""Sends deadline reminders as they come due (`reminders.remind_due`). Safe with several
replicas and across restarts: each reminder's ledger row is committed with its event, so
a reminder leaves once. The clock is injectable; tests call `tick()` with a settable one."""

from forbedring_actionplan import reminders
from forbedring_chassis import scheduler
from forbedring_chassis.db import unit_of_work
from forbedring_chassis.logging import get_logger

log = get_logger(__name__)


class Scheduler(scheduler.Scheduler):
    failure_event = "actionplan.scheduler.tick_failed"

    async def tick(self) -> list[reminders.Sent]:
        async with unit_of_work(self._sessions) as session:
            sent = await reminders.remind_due(session, now=self._clock.now())
        if sent:
            self._wake()
            log.info("actionplan.reminders.sent", reminders=len(sent))
        return sent
