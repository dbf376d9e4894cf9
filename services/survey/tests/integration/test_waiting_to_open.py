"""A due period that cannot open yet is said once, not at every tick: one warning when
it starts waiting, one line when it opens, and a gauge meanwhile (ops read the state
from the metric, not from a log line a second)."""

from structlog.testing import capture_logs

from forbedring_survey.testing import small_organisation
from services.survey.tests.integration.conftest import Harness, open_period


async def waiting_gauge(harness: Harness) -> str:
    metrics = (await harness.api.http.get("/metrics/")).text
    [line] = [m for m in metrics.splitlines() if m.startswith("forbedring_survey_periods_waiting")]
    return line.split()[-1]


async def test_a_period_waiting_for_another_to_close_is_logged_once(harness: Harness) -> None:
    organisation = small_organisation({"a": 3})
    first = await open_period(harness, organisation)
    second = await harness.api.create_period(opens_at=harness.clock.now(), name="Next")
    assert (await harness.api.import_json(second["id"], organisation)).status_code == 201
    scheduler = harness.scheduler()
    with capture_logs() as logs:
        for _ in range(5):
            await scheduler.tick()
        assert await waiting_gauge(harness) == "1.0"
        await harness.api.close(first)
        await scheduler.tick()
    assert (await harness.api.period(second["id"]))["status"] == "open"
    said = [(e["event"], e.get("reason")) for e in logs if e["event"].startswith("survey.period.")]
    assert said.count(("survey.period.open_postponed", "another period is open")) == 1
    assert ("survey.period.opened_after_waiting", None) in said
    assert await waiting_gauge(harness) == "0.0"
