"""Time-based work as one shape: a `Scheduler` subclass says what is due (`tick`), and the
base runs it every `interval_s` under the service's supervision. Each subclass makes its
own `tick` safe with several replicas (row locks or advisory locks) and commits its events
with the state change through the outbox, so a tick that runs twice does nothing twice.
Tests drive `tick()` directly with a settable clock."""

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from forbedring_chassis.clock import Clock
from forbedring_chassis.db import Sessions
from forbedring_chassis.runtime import run_periodically


class Scheduler(ABC):
    failure_event: ClassVar[str]
    """The log event of a failed tick, e.g. `survey.scheduler.tick_failed`."""

    def __init__(
        self,
        *,
        sessions: Sessions,
        clock: Clock,
        interval_s: float,
        wake: Callable[[], None] = lambda: None,
        last_tick_s: float | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._interval_s = interval_s
        self._wake = wake
        self._last_tick_s = last_tick_s

    @abstractmethod
    async def tick(self) -> object:
        """Do whatever is due at `self._clock.now()`; call `self._wake()` after staging
        events so the outbox relay sends them now rather than at its next poll."""

    async def run(self) -> None:
        """The background loop. With `last_tick_s`, cancellation at shutdown runs one last
        tick, so work already due leaves now rather than at the next start."""
        await run_periodically(
            self.tick,
            interval_s=self._interval_s,
            failure_event=self.failure_event,
            last_tick_s=self._last_tick_s,
        )
