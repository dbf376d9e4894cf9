"""The outbox's oldest-row age, kept without any time stored in the outbox; the monitor's
reachability and its stopping."""

import asyncio
from typing import Any

import pytest
from structlog.testing import capture_logs

from forbedring_chassis import metrics
from forbedring_chassis.metrics import Monitor, OutboxBacklog


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_age_is_the_time_since_the_first_measurement_that_saw_the_oldest_row() -> None:
    ticks = Ticks()
    backlog = OutboxBacklog(sessions=Any, clock=ticks)  # type: ignore[arg-type]
    backlog.observe(0, None, None)
    assert (backlog.pending, backlog.oldest_age_s) == (0, 0.0)
    backlog.observe(3, 1, 3)  # rows 1-3 seen at 100
    ticks.now = 105
    backlog.observe(5, 1, 5)  # rows 4-5 seen at 105
    assert (backlog.pending, backlog.oldest_age_s) == (5, 5.0)
    ticks.now = 107
    backlog.observe(2, 4, 5)  # 1-3 published: the oldest is 4, seen at 105
    assert backlog.oldest_age_s == 2.0
    ticks.now = 110
    backlog.observe(1, 9, 9)  # a new row (9) behind none of those seen
    assert backlog.oldest_age_s == 0.0
    ticks.now = 111
    backlog.observe(0, None, None)
    assert (backlog.pending, backlog.oldest_age_s) == (0, 0.0)


class Failing:
    """A measurement whose dependency is gone until `back` is set."""

    def __init__(self) -> None:
        self.back = False

    async def measure(self) -> None:
        if not self.back:
            raise ConnectionError("gone")


async def test_a_failing_measurement_shows_its_dependency_unreachable_until_it_works() -> None:
    part = Failing()
    monitor = Monitor([part], interval_s=0.1)  # type: ignore[list-item]

    def reachable() -> list[float]:
        [family] = monitor.collect()
        return [sample.value for sample in family.samples]

    assert reachable() == []  # not measured yet: nothing claimed
    await monitor.measure()
    assert reachable() == [0]
    part.back = True
    await monitor.measure()
    assert reachable() == [1]


class Stubborn:
    """A measurement that, cancelled, goes on waiting (as one inside a Kafka request can,
    until the request's own timeout)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def measure(self) -> None:
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)


async def test_stopping_does_not_wait_for_a_measurement_that_ignores_cancelling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service's shutdown (its consumers, the outbox's last flush) comes after."""
    monkeypatch.setattr(metrics, "STOP_WAIT_S", 0.05)
    part = Stubborn()
    monitor = Monitor([part], interval_s=60)  # type: ignore[list-item]
    monitor.start()
    await part.started.wait()
    with capture_logs() as logs:
        await asyncio.wait_for(monitor.stop(), timeout=30)
    [abandoned] = [e for e in logs if e["event"] == "metrics.monitor.stop_abandoned"]
    assert "measure" in abandoned["stack"]  # where it was stuck, for whoever reads the log
