"""Escalation on the real broker and PostgreSQL: lifted with a reason, accepted by the
parent's leader (a measure there, linked both ways) or declined with a reason (back to
the unit); from the root refused; decided twice refused; measure-escalated each step."""

from typing import Any

from forbedring_chassis.testing import Infrastructure
from forbedring_contracts import topics
from services.actionplan.tests.integration.conftest import published
from services.actionplan.tests.integration.test_plans import measure
from services.actionplan.tests.org import PEOPLE, an_org


async def test_escalate_accept_decline_and_the_refusals(
    actionplan: Any, produce: Any, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    org = an_org()
    async with actionplan() as app:
        plan = await app.opened_plan(produce, org)
        parent = await app.plan(org.period_id, "K", role="leader_above")
        base = f"/api/v1/plans/{plan['plan_id']}"
        one = (
            await app.send("POST", f"{base}/measures", "leader", measure(title="Staffing"))
        ).json()
        two = (await app.send("POST", f"{base}/measures", "leader", measure(title="Lifts"))).json()

        lifted = await app.escalate(plan["plan_id"], one, "Needs the clinic's budget.")
        assert lifted.status_code == 201, lifted.text
        escalation = lifted.json()
        assert (escalation["status"], escalation["to_unit"]["unit_id"]) == ("pending", "K")
        again = await app.escalate(plan["plan_id"], one, "Again.", revision=one["revision"] + 1)
        assert again.status_code == 409
        # Both sides see it: the inbox of the parent's leader, the unit's plan.
        inbox = (
            await app.get(f"/api/v1/periods/{org.period_id}/inbox?lang=en", "leader_above")
        ).json()
        assert [e["escalation_id"] for e in inbox["incoming"]] == [escalation["escalation_id"]]
        mine = await app.plan(org.period_id, "S-PUB")
        assert mine["measures"][0]["escalation"]["status"] == "pending"
        # Only the parent's leaders decide.
        assert (
            await app.send(
                "POST", f"/api/v1/escalations/{escalation['escalation_id']}/accept", "leader"
            )
        ).status_code == 403

        accepted = await app.send(
            "POST", f"/api/v1/escalations/{escalation['escalation_id']}/accept", "leader_above"
        )
        assert accepted.status_code == 200, accepted.text
        taken_id = accepted.json()["to_measure_id"]
        twice = await app.send(
            "POST", f"/api/v1/escalations/{escalation['escalation_id']}/accept", "leader_above"
        )
        assert twice.status_code == 409
        assert "already accepted" in twice.json()["detail"]["message"]
        parent = await app.plan(org.period_id, "K", role="leader_above")
        taken = next(m for m in parent["measures"] if m["measure_id"] == taken_id)
        assert taken["origin"] == {
            "measure_id": one["measure_id"],
            "plan_id": plan["plan_id"],
            "unit": {"unit_id": "S-PUB", "name": "Sengepost stor"},
        }
        mine = await app.plan(org.period_id, "S-PUB")
        source = next(m for m in mine["measures"] if m["measure_id"] == one["measure_id"])
        assert source["escalated_to"]["measure_id"] == taken_id
        assert source["escalation"]["status"] == "accepted"

        # The other one is declined and comes back with the reason.
        lift = await app.escalate(plan["plan_id"], two, "Too big for us.")
        declined = await app.send(
            "POST",
            f"/api/v1/escalations/{lift.json()['escalation_id']}/decline",
            "leader_above",
            {"reason": "Solve it with the facilities office."},
        )
        assert declined.json()["status"] == "declined"
        mine = await app.plan(org.period_id, "S-PUB")
        back = next(m for m in mine["measures"] if m["measure_id"] == two["measure_id"])
        assert back["escalation"]["decline_reason"] == "Solve it with the facilities office."
        assert back["escalated_to"] is None

        # From the root: refused.
        top = await app.plan(org.period_id, "HF", role="top_leader")
        root = (
            await app.send(
                "POST", f"/api/v1/plans/{top['plan_id']}/measures", "top_leader", measure()
            )
        ).json()
        refused = await app.escalate(top["plan_id"], root, "Nowhere to go.", role="top_leader")
        assert refused.status_code == 409
        assert "top of the organisation" in refused.json()["detail"]["message"]
        await app.outbox_empty()
    events = await published(infrastructure, topic_prefix, topics.MEASURE_ESCALATED, org.period_id)
    steps = sorted((e["title"], e["step"]) for e in events)
    assert steps == [
        ("Lifts", "declined"),
        ("Lifts", "escalated"),
        ("Staffing", "accepted"),
        ("Staffing", "escalated"),
    ]
    accepted_event = next(e for e in events if e["step"] == "accepted")
    assert accepted_event["to_measure_id"] == taken_id
    assert accepted_event["leader_person_ids"] == [PEOPLE["leader"]]
    assert accepted_event["to_leader_person_ids"] == [PEOPLE["leader_above"]]
