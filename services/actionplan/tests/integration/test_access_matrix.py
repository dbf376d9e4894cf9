"""The JSON API's access rules, route by role, on the real broker and PostgreSQL, for one
unit's plan once every employee has the results (stage 2): who reads it, who comments,
who edits; everyone else refused, anonymous callers asked to sign in. No answer, event
included, carries a figure of a suppressed unit."""

from typing import Any

from forbedring_chassis.testing import Infrastructure
from forbedring_contracts import topics
from services.actionplan.tests.integration.conftest import ROLES, published
from services.actionplan.tests.integration.test_plans import measure
from services.actionplan.tests.org import HIDDEN_FIGURES, an_org

# For the plan of S-PUB (under K, under HF): S-PUB's leader; K's and HF's leaders are
# leaders above; K2's leader leads another branch.
READ = {"employee", "leader", "leader_above", "top_leader", "representative", "union_rep",
        "hr_admin"}  # fmt: skip
COMMENT = {"leader", "leader_above", "top_leader", "representative", "union_rep"}
EDIT = {"leader", "leader_above", "top_leader"}


def expected(role: str, allowed: set[str], ok: int) -> int:
    if role == "anonymous":
        return 401
    return ok if role in allowed else 403


async def test_every_route_for_every_role(
    actionplan: Any, produce: Any, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    assert set(ROLES) >= READ | {"anonymous", "elsewhere", "k2_leader"}
    org = an_org()
    async with actionplan() as app:
        await produce([*org.events(), org.stage_2])
        await app.wait_for_plans(org.period_id)
        plan = await app.plan(org.period_id, "S-PUB")
        base = f"/api/v1/plans/{plan['plan_id']}"
        seen: list[str] = []
        for role in ROLES:
            for path in (f"/api/v1/periods/{org.period_id}/units/S-PUB/plan", base):
                reply = await app.get(path, role)
                assert reply.status_code == expected(role, READ, 200), (role, path, reply.text)
                seen.append(reply.text)
            commented = await app.send("POST", f"{base}/comments", role, {"text": f"{role}."})
            assert commented.status_code == expected(role, COMMENT, 201), (role, commented.text)
            created = await app.send("POST", f"{base}/measures", role, measure(title=role))
            assert created.status_code == expected(role, EDIT, 201), (role, created.text)
            reviewed = await app.send(
                "POST",
                f"{base}/dialogue",
                role,
                {"step": "staff", "held_on": "2027-03-01", "note": f"{role}."},
            )
            assert reviewed.status_code == expected(role, EDIT, 201), (role, reviewed.text)
            for refused in (commented, created, reviewed):
                if refused.status_code in (401, 403):
                    assert refused.json()["detail"]["code"] in ("unauthorized", "forbidden")

        # Only what the allowed roles did is in the plan.
        final = await app.plan(org.period_id, "S-PUB")
        assert sorted(c["text"] for c in final["comments"]) == sorted(f"{r}." for r in COMMENT)
        assert sorted(m["title"] for m in final["measures"]) == sorted(EDIT)
        # The overviews: indicators and roll-up for HR and leaders, the list of units
        # without a plan for HR, the escalation inbox for leaders.
        leaders = EDIT | {"k2_leader"}
        for path, allowed in (
            (f"/api/v1/periods/{org.period_id}/indicators", leaders | {"hr_admin"}),
            (f"/api/v1/periods/{org.period_id}/roll-up", leaders | {"hr_admin"}),
            (f"/api/v1/periods/{org.period_id}/units-without-plan", {"hr_admin"}),
            (f"/api/v1/periods/{org.period_id}/inbox", leaders),
        ):
            for role in ROLES:
                reply = await app.get(path, role)
                assert reply.status_code == expected(role, allowed, 200), (role, path)
                seen.append(reply.text)
        await app.outbox_empty()

    events = await published(infrastructure, topic_prefix, topics.PLAN_UPDATED, org.period_id)
    assert events, "plan-updated was published"
    everything = "\n".join(seen) + str(events)
    assert [n for n in HIDDEN_FIGURES if n in everything] == []
