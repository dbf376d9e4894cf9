"""A report compares with the same unit's results in the previous period, matched by
unit id, once those were released to everyone."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

from services.publication.tests.integration.conftest import FINALIZED_AT, STAGE_1_DELAY, an_org


async def test_a_report_compares_with_the_same_unit_last_period(
    publication: Any, produce: Any
) -> None:
    this = an_org()
    last = an_org()
    last = replace(
        last,
        finalized=last.finalized.model_copy(
            update={"finalized_at": FINALIZED_AT - timedelta(days=365)}
        ),
    )
    async with publication() as app:
        await produce([last.opened, last.directory, *last.results, last.finalized])
        await produce([this.opened, this.directory, *this.results, this.finalized])
        for org in (last, this):
            await app.wait_until(org.period_id, lambda s: s.get("finalised") is True)
        app.clock.set(FINALIZED_AT + STAGE_1_DELAY)
        for _ in range(3):  # last year's two stages are long due; this year's first
            await app.scheduler.tick()

        reply = await app.get(
            f"/api/v1/periods/{this.period_id}/units/S-PUB/results?lang=en", "leader"
        )
        assert reply.status_code == 200, reply.text
        previous = reply.json()["comparisons"]["previous"]
        assert previous["unit_id"] == "S-PUB"
        assert previous["factors"] == {"sc": 81.25}

        # A unit suppressed last year is not compared with.
        small = await app.get(f"/api/v1/periods/{this.period_id}/units/K/results?lang=en", "leader")
        assert small.json()["comparisons"]["previous"]["unit_id"] == "K"
        page = await app.get(f"/periods/{this.period_id}/units/S-PUB?lang=en", "leader")
        assert "Previous survey" in page.text
