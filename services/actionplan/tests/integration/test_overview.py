"""Indicators, units without a plan (CSV/XLSX on the pages), a leader's roll-up, and the
carry-over of unfinished measures into the next period's plan."""

from datetime import timedelta
from typing import Any

from services.actionplan.tests.integration.test_plans import measure
from services.actionplan.tests.org import PEOPLE, an_org, last_year_and_this


def share(rows: list[dict[str, Any]], indicator: str, level: str) -> tuple[int, int, float | None]:
    row = next(r for r in rows if r["indicator"] == indicator and r["level"] == level)
    return row["count"], row["of"], row["share"]


async def test_indicators_without_plan_and_roll_up(actionplan: Any, produce: Any) -> None:
    org = an_org()
    async with actionplan(target_with_plan_percent=50) as app:
        plan = await app.opened_plan(produce, org)
        base = f"/api/v1/plans/{plan['plan_id']}"
        await app.send(
            "POST", f"{base}/dialogue", "leader", {"step": "staff", "held_on": "2027-03-01"}
        )
        first = (
            await app.send("POST", f"{base}/measures", "leader", measure(deadline="2027-03-10"))
        ).json()
        await app.send(
            "POST", f"{base}/measures", "leader", measure(title="Second", deadline="2027-03-20")
        )
        plan = await app.plan(org.period_id, "S-PUB")
        await app.send("POST", f"{base}/complete", "leader", {"revision": plan["revision"]})
        await app.send(
            "PATCH",
            f"{base}/measures/{first['measure_id']}",
            "leader",
            {"revision": first["revision"], "status": "done"},
        )
        app.clock.advance(timedelta(days=30))  # the second's deadline is past, not done

        path = f"/api/v1/periods/{org.period_id}/indicators"
        assert (await app.get(path, "employee")).status_code == 403
        rows = (await app.get(path, "hr_admin")).json()["rows"]
        assert share(rows, "with_plan", "enterprise") == (1, 7, 14.3)
        assert share(rows, "with_plan", "3") == (1, 4, 25.0)
        assert share(rows, "complete_of_quality", "enterprise") == (1, 7, 14.3)
        assert share(rows, "measures_done_by_deadline", "3") == (1, 2, 50.0)
        target = next(r for r in rows if r["indicator"] == "with_plan" and r["level"] == "3")
        assert (target["target"], target["target_met"]) == (50.0, False)

        missing = (
            await app.get(f"/api/v1/periods/{org.period_id}/units-without-plan", "hr_admin")
        ).json()
        assert "S-PUB" not in {u["unit"]["unit_id"] for u in missing["units"]}
        assert len(missing["units"]) == 6
        assert (
            await app.get(f"/api/v1/periods/{org.period_id}/units-without-plan", "leader")
        ).status_code == 403

        roll = (await app.get(f"/api/v1/periods/{org.period_id}/roll-up", "leader_above")).json()
        assert {r["unit"]["unit_id"]: r["status"] for r in roll["units"]} == {
            "S-PUB": "active",
            "S-SMALL": "draft",
        }
        assert (
            await app.get(f"/api/v1/periods/{org.period_id}/roll-up", "employee")
        ).status_code == 403

        # The start page offers the escalation inbox to a leader only (a 403 for the rest).
        for person, leads in (("leader", True), ("employee", False), ("representative", False)):
            found = (await app.get("/api/v1/me/plans", person)).json()
            [mine] = [p for p in found if p["period"]["period_id"] == org.period_id]
            assert mine["leader"] is leads, person


async def test_unfinished_measures_are_offered_for_carry_over_into_next_period(
    actionplan: Any, produce: Any
) -> None:
    last, this = last_year_and_this()
    async with actionplan() as app:
        old = await app.opened_plan(produce, last)
        base = f"/api/v1/plans/{old['plan_id']}"
        open_one = (
            await app.send("POST", f"{base}/measures", "leader", measure(title="Unfinished"))
        ).json()
        done = (
            await app.send("POST", f"{base}/measures", "leader", measure(title="Finished"))
        ).json()
        await app.send(
            "PATCH",
            f"{base}/measures/{done['measure_id']}",
            "leader",
            {"revision": done["revision"], "status": "done"},
        )

        new = await app.opened_plan(produce, this)
        assert [m["title"] for m in new["carry_over"]] == ["Unfinished"]
        carried = await app.send(
            "POST",
            f"/api/v1/plans/{new['plan_id']}/carry-over",
            "leader",
            {"measure_ids": [open_one["measure_id"]]},
        )
        assert carried.status_code == 200, carried.text
        body = carried.json()
        assert [(m["title"], m["continued"]) for m in body["measures"]] == [("Unfinished", True)]
        assert body["carry_over"] == []
        assert body["measures"][0]["responsible"]["person_id"] == PEOPLE["leader"]
        again = await app.send(
            "POST",
            f"/api/v1/plans/{new['plan_id']}/carry-over",
            "leader",
            {"measure_ids": [open_one["measure_id"]]},
        )
        assert again.status_code == 422
