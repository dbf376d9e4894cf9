"""Plans on the real broker and PostgreSQL: opened for every unit at stage 1 with their
suggested focus areas (a hidden unit's from its roll-up or its nearest published unit
above, labelled, and never a number), the dialogue, measures, the checklist, completion
into immutable versions, history, and every bad input refused with nothing changed."""

from typing import Any

from forbedring_chassis.testing import Infrastructure
from forbedring_contracts import topics
from services.actionplan.tests.integration.conftest import published
from services.actionplan.tests.org import HIDDEN_FIGURES, PEOPLE, an_org


def areas(plan: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["ref_id"], a["kind"]) for a in plan["focus"]["areas"]]


def measure(**fields: Any) -> dict[str, Any]:
    return {
        "category": "patient_safety",
        "linked_id": "sc1",
        "title": "Daily safety huddle",
        "description": "Ten minutes at the board every morning.",
        "responsible_person_id": PEOPLE["leader"],
        "deadline": "2027-05-01",
        "desired_effect": "Everyone dares to speak up.",
        **fields,
    }


async def test_plans_open_at_stage_1_with_focus_areas_and_never_a_figure(
    actionplan: Any, produce: Any, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    org = an_org()
    async with actionplan() as app:
        # Stage 1 first, the results after: the plans wait for every unit's results.
        await produce([org.opened, org.directory, org.stage_1, *org.results, org.finalized])
        await app.wait_for_plans(org.period_id)
        own = await app.plan(org.period_id, "S-PUB")
        assert own["focus"]["source"] == "own"
        assert areas(own) == [
            ("sc1", "follow_up"),
            ("wc1", "follow_up"),
            ("sc2", "strength"),
            ("wc2", "strength"),
        ]
        assert own["focus"]["areas"][0]["text"] == "I would feel safe being treated here"
        assert own["status"] == "draft"
        assert own["deadline"] == "2027-06-30"
        assert own["missing"] == [
            "staff_discussion",
            "measures",
            "measure_linked_to_focus_area",
        ]
        assert [p["person_id"] for p in own["involved"]] == [
            PEOPLE["representative"],
            PEOPLE["union_rep"],
        ]
        # A hidden unit without a roll-up: its nearest published unit above, labelled so.
        small = await app.plan(org.period_id, "S-SMALL", role="leader_above")
        assert small["focus"]["source"] == "ancestor"
        assert small["focus"]["source_unit"] == {"unit_id": "K", "name": "Klinikk"}
        assert areas(small) == [("sc1", "follow_up"), ("sc2", "strength")]
        # A hidden unit with a roll-up: the roll-up's.
        k2 = await app.plan(org.period_id, "K2", role="k2_leader")
        assert k2["focus"]["source"] == "roll_up"
        assert areas(k2) == [("sc2", "follow_up"), ("sc1", "strength")]
        texts = [small, k2]
        for lang in ("nb", "nn", "en"):
            for unit in ("S-SMALL", "K2"):
                reply = await app.get(
                    f"/api/v1/periods/{org.period_id}/units/{unit}/plan?lang={lang}", "hr_admin"
                )
                texts.append(reply.json())
        await app.outbox_empty()
    events = await published(infrastructure, topic_prefix, topics.PLAN_UPDATED, org.period_id)
    assert sorted(e["unit_id"] for e in events) == sorted(u.unit_id for u in org.opened.units)
    assert {e["status"] for e in events} == {"draft"}
    seen = " ".join(str(t) for t in [*texts, *events])
    assert [n for n in HIDDEN_FIGURES if n in seen] == []


async def test_a_leader_writes_and_completes_a_plan_and_each_version_is_kept(
    actionplan: Any, produce: Any
) -> None:
    org = an_org()
    async with actionplan() as app:
        plan = await app.opened_plan(produce, org)
        base = f"/api/v1/plans/{plan['plan_id']}"
        # Completing now is refused, with the checklist, and changes nothing.
        refused = await app.send(
            "POST", f"{base}/complete", "leader", {"revision": plan["revision"]}
        )
        assert refused.status_code == 422
        detail = refused.json()["detail"]
        assert detail["code"] == "checklist_not_met"
        assert [p["code"] for p in detail["problems"]] == plan["missing"]
        assert (await app.plan(org.period_id, "S-PUB")) == plan

        staff = await app.send(
            "POST",
            f"{base}/dialogue",
            "leader",
            {"step": "staff", "held_on": "2027-03-01", "note": "Whole staff, 40 minutes."},
        )
        assert staff.status_code == 201, staff.text
        first = await app.send("POST", f"{base}/measures", "leader", measure())
        assert first.status_code == 201, first.text
        assert first.json()["responsible"]["name"] == "Person leader"
        second = await app.send(
            "POST",
            f"{base}/measures",
            "leader",
            measure(
                title="Breaks on busy shifts",
                linked_id="wc1",
                category="hse",
                responsible_person_id=PEOPLE["employee"],
                extra_resources="2 hours a week",
                continued=True,
            ),
        )
        assert second.status_code == 201
        plan = await app.plan(org.period_id, "S-PUB")
        assert plan["missing"] == []
        assert plan["desired_quality"] is True
        done = await app.send("POST", f"{base}/complete", "leader", {"revision": plan["revision"]})
        assert done.status_code == 200, done.text
        assert (done.json()["version"], done.json()["status"]) == (1, "active")
        # A later edit makes the plan changed since its version; completing again stores 2.
        m = first.json()
        edit = await app.send(
            "PATCH",
            f"{base}/measures/{m['measure_id']}",
            "leader",
            {"revision": m["revision"], "status": "in_progress"},
        )
        assert edit.status_code == 200
        plan = await app.plan(org.period_id, "S-PUB")
        assert plan["changed_since_version"] is True
        again = await app.send("POST", f"{base}/complete", "leader", {"revision": plan["revision"]})
        assert again.json()["version"] == 2
        v1 = (await app.get(f"{base}/versions/1", "representative")).json()
        assert v1["version"] == 1
        assert {x["status"] for x in v1["plan"]["measures"]} == {"planned"}, "as it was"
        v2 = (await app.get(f"{base}/versions/2", "leader")).json()
        assert "in_progress" in {x["status"] for x in v2["plan"]["measures"]}
        history = [(h["action"], h["by"]["person_id"]) for h in again.json()["history"]]
        assert history[:3] == [
            ("completed", PEOPLE["leader"]),
            ("measure_changed", PEOPLE["leader"]),
            ("completed", PEOPLE["leader"]),
        ]
        assert ("opened", "system") in history
        assert any(
            h["summary"].endswith("status: planned → in_progress.") for h in again.json()["history"]
        )


async def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(
    actionplan: Any, produce: Any
) -> None:
    org = an_org()
    async with actionplan() as app:
        plan = await app.opened_plan(produce, org)
        base = f"/api/v1/plans/{plan['plan_id']}"
        created = (await app.send("POST", f"{base}/measures", "leader", measure())).json()
        before = await app.plan(org.period_id, "S-PUB")

        cases = [
            (
                "POST",
                f"{base}/measures",
                "leader",
                measure(deadline="2027-02-28"),
                422,
                "in the past",
            ),
            (
                "POST",
                f"{base}/measures",
                "leader",
                measure(responsible_person_id="E-NOBODY"),
                422,
                "not in this period's directory",
            ),
            (
                "POST",
                f"{base}/measures",
                "leader",
                measure(linked_id="nope"),
                422,
                "neither a factor nor an item",
            ),
            ("POST", f"{base}/measures", "leader", measure(title="x" * 201), 422, "not valid"),
            (
                "POST",
                f"{base}/measures",
                "leader",
                measure(description="x" * 2001),
                422,
                "not valid",
            ),
            ("POST", f"{base}/measures", "k2_leader", measure(), 403, "leader"),
            ("POST", f"{base}/measures", "representative", measure(), 403, "leader"),
            (
                "PATCH",
                f"{base}/measures/{created['measure_id']}",
                "leader",
                {"revision": created["revision"], "deadline": "2027-01-01"},
                422,
                "in the past",
            ),
            (
                "PATCH",
                f"{base}/measures/{created['measure_id']}",
                "leader",
                {"revision": created["revision"], "status": "cancelled"},
                422,
                "cancel",
            ),
            ("POST", f"{base}/complete", "leader", {"revision": plan["revision"]}, 409, "changed"),
            (
                "POST",
                f"{base}/dialogue",
                "leader",
                {"step": "staff", "held_on": "2027-12-01"},
                422,
                "future",
            ),
        ]
        for method, path, role, body, status, words in cases:
            reply = await app.send(method, path, role, body)
            assert reply.status_code == status, (path, body, reply.text)
            assert words in reply.json()["detail"]["message"], reply.text
        assert await app.plan(org.period_id, "S-PUB") == before


async def test_two_leaders_editing_the_same_measure_the_second_gets_a_conflict(
    actionplan: Any, produce: Any
) -> None:
    org = an_org()
    async with actionplan() as app:
        plan = await app.opened_plan(produce, org)
        base = f"/api/v1/plans/{plan['plan_id']}"
        created = (await app.send("POST", f"{base}/measures", "leader", measure())).json()
        path = f"{base}/measures/{created['measure_id']}"
        mine = await app.send(
            "PATCH", path, "leader", {"revision": created["revision"], "title": "Mine"}
        )
        assert mine.status_code == 200
        theirs = await app.send(
            "PATCH", path, "leader_above", {"revision": created["revision"], "title": "Theirs"}
        )
        assert theirs.status_code == 409
        assert theirs.json()["detail"]["code"] == "stale_edit"
        after = await app.plan(org.period_id, "S-PUB")
        assert [m["title"] for m in after["measures"]] == ["Mine"]
