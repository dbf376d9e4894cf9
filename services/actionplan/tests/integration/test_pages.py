"""The action plan pages on the real broker and PostgreSQL: each page renders for the
roles allowed to see it in nb, nn and en and is refused for the others (anonymous: the
sign-in page); a form post changes the plan and redirects, a bad one shows the message
next to its field and changes nothing; no page shows a figure of a suppressed unit."""

import csv
import html as html_lib
import io
import re
from datetime import timedelta
from importlib.resources import files
from typing import Any

import httpx
from openpyxl import load_workbook

from forbedring_chassis.testing import eventually
from forbedring_chassis.web import NAV_SECTIONS, Pages
from services.actionplan.tests.integration.conftest import ROLES, Actionplan, token
from services.actionplan.tests.integration.test_plans import measure
from services.actionplan.tests.org import HIDDEN_FIGURES, PEOPLE, an_org, last_year_and_this

LANGS = ("nb", "nn", "en")
LEADERS = {"leader", "leader_above", "top_leader"}  # may edit S-PUB's plan
READERS = LEADERS | {"representative", "union_rep", "hr_admin", "employee"}
ALL_LEADERS = LEADERS | {"k2_leader"}
SIGNED_IN = set(ROLES) - {"anonymous"}
# The plan page's heading in each language, and its checklist's.
PLAN_TITLE = {
    "nb": "Handlingsplan for Sengepost stor",
    "nn": "Handlingsplan for Sengepost stor",
    "en": "Action plan of Sengepost stor",
}
CHECKLIST = {
    "nb": "Sjekkliste for ønsket kvalitet",
    "nn": "Sjekkliste for ønskt kvalitet",
    "en": "Checklist for the desired quality",
}


class Web:
    """The running service as a browser would use it: pages with the session's token
    (sent as a bearer token; the cookie holds the same), forms posted as forms."""

    def __init__(self, app: Actionplan) -> None:
        self.client = app.client

    async def get(self, path: str, role: str, lang: str | None = None) -> httpx.Response:
        query = f"{'&' if '?' in path else '?'}lang={lang}" if lang else ""
        return await self.client.get(path + query, headers=token(role))

    async def post(self, path: str, role: str, form: dict[str, Any]) -> httpx.Response:
        return await self.client.post(path, headers=token(role), data=form)


def text_of(page: str) -> str:
    """The page's text and attribute values (a figure could hide in either)."""
    return re.sub(r"\s+", " ", html_lib.unescape(page))


def assert_no_hidden_figure(html: str, where: str) -> None:
    shown = [n for n in HIDDEN_FIGURES if n in html]
    assert shown == [], f"{where} shows a suppressed unit's figure: {shown}"


def test_every_template_message_exists_in_every_language_and_nothing_is_inline() -> None:
    pages = Pages.for_package("forbedring_actionplan")
    assert pages.missing_messages() == []
    assert pages.catalog.problems() == []
    # The Content-Security-Policy refuses inline script and style: none is written.
    templates = files("forbedring_actionplan") / "templates"
    for template in templates.iterdir():
        source = template.read_text(encoding="utf-8")
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", source), template.name


async def test_each_page_for_the_allowed_roles_in_every_language_and_refused_for_others(
    actionplan: Any, produce: Any
) -> None:
    org = an_org()
    async with actionplan() as app:
        await produce([*org.events(), org.stage_2])
        await app.wait_for_plans(org.period_id)

        async def stage_2_reached() -> bool:
            reply: httpx.Response = await app.get(f"/api/v1/plans/{plan_id}", "employee")
            return reply.status_code == 200

        plan = await app.plan(org.period_id, "S-PUB")
        plan_id = plan["plan_id"]
        await eventually(stage_2_reached, timeout=60)
        base = f"/api/v1/plans/{plan_id}"
        made = (await app.send("POST", f"{base}/measures", "leader", measure())).json()
        small = await app.plan(org.period_id, "S-SMALL", role="leader_above")
        k2 = await app.plan(org.period_id, "K2", role="k2_leader")
        web = Web(app)
        p = org.period_id
        m = made["measure_id"]
        # page → (who may see it, a text it shows in nb / nn / en)
        pages: dict[str, tuple[set[str], dict[str, str] | None]] = {
            "/": (SIGNED_IN, None),
            f"/plans/{plan_id}": (READERS, PLAN_TITLE),
            f"/plans/{small['plan_id']}": (
                {"leader_above", "top_leader", "hr_admin", "elsewhere"},
                {
                    "nb": "nærmeste publiserte enhet over: Klinikk",
                    "nn": "næraste publiserte eining over: Klinikk",
                    "en": "nearest published unit above: Klinikk",
                },
            ),
            f"/plans/{k2['plan_id']}": (
                {"k2_leader", "top_leader", "hr_admin"},
                {
                    "nb": "publiserte underenhetene til Rehabiliteringsklinikken samlet",
                    "nn": "publiserte undereiningane til Rehabiliteringsklinikken samla",
                    "en": "roll-up of the published sub-units of Rehabiliteringsklinikken",
                },
            ),
            f"/plans/{plan_id}/measures/new": (
                LEADERS,
                {"nb": "Nytt tiltak", "nn": "Nytt tiltak", "en": "New measure"},
            ),
            f"/plans/{plan_id}/measures/{m}": (
                LEADERS,
                {"nb": "Endre tiltak", "nn": "Endre tiltak", "en": "Edit measure"},
            ),
            f"/plans/{plan_id}/measures/{m}/escalate": (
                LEADERS,
                {"nb": "Løft til Klinikk", "nn": "Løft til Klinikk", "en": "Lift to Klinikk"},
            ),
            f"/periods/{p}/inbox": (
                ALL_LEADERS,
                {
                    "nb": "Innboks for løftede tiltak",
                    "nn": "Innboks for løfta tiltak",
                    "en": "Inbox of lifted measures",
                },
            ),
            f"/periods/{p}/roll-up": (
                ALL_LEADERS | {"hr_admin"},
                {
                    "nb": "Underenhetenes planer",
                    "nn": "Planane til undereiningane",
                    "en": "Sub-units' plans",
                },
            ),
            f"/periods/{p}/indicators": (
                ALL_LEADERS | {"hr_admin"},
                {
                    "nb": "Andel enheter med handlingsplan",
                    "nn": "Del einingar med handlingsplan",
                    "en": "Share of units with an action plan",
                },
            ),
        }
        for path, (allowed, texts) in pages.items():
            for role in ROLES:
                for lang in LANGS:
                    reply = await web.get(path, role, lang)
                    where = f"{path} as {role} in {lang}"
                    assert_no_hidden_figure(reply.text, where)
                    if role == "anonymous":
                        assert reply.status_code == 401, where
                        assert 'href="/dev-login' not in reply.text  # not enabled here
                    elif role in allowed:
                        assert reply.status_code == 200, f"{where}: {reply.status_code}"
                        assert f'<html lang="{lang}">' in reply.text, where
                        if texts:
                            assert texts[lang] in text_of(reply.text), where
                    else:
                        assert reply.status_code == 403, f"{where}: {reply.status_code}"
                        assert 'lang="' + lang + '"' in reply.text
                        assert "Sengepost stor" not in reply.text or path == "/", where
        # The exports of the units without a plan are HR's.
        for kind in ("csv", "xlsx"):
            for role in ROLES:
                reply = await web.get(f"/periods/{p}/units-without-plan.{kind}", role)
                expected = {"anonymous": 401, "hr_admin": 200}.get(role, 403)
                assert reply.status_code == expected, (kind, role)
        # An unknown plan is a page saying so.
        assert (await web.get("/plans/nothing-here", "leader")).status_code == 404


async def test_exports_list_the_units_without_a_plan(actionplan: Any, produce: Any) -> None:
    org = an_org()
    async with actionplan() as app:
        plan = await app.opened_plan(produce, org)
        await app.send("POST", f"/api/v1/plans/{plan['plan_id']}/measures", "leader", measure())
        web = Web(app)
        page = await web.get(f"/periods/{org.period_id}/indicators", "hr_admin", "en")
        assert "Units without an action plan" in page.text
        assert f"/periods/{org.period_id}/units-without-plan.csv" in page.text
        assert f"/periods/{org.period_id}/units-without-plan.xlsx" in page.text
        reply = await web.get(f"/periods/{org.period_id}/units-without-plan.csv", "hr_admin")
        rows = list(csv.reader(io.StringIO(reply.text)))
        assert rows[0][:3] == ["unit_id", "unit_name", "level"]
        assert sorted(r[0] for r in rows[1:]) == sorted(
            u.unit_id for u in org.opened.units if u.unit_id != "S-PUB"
        )
        reply = await web.get(f"/periods/{org.period_id}/units-without-plan.xlsx", "hr_admin")
        sheet = load_workbook(io.BytesIO(reply.content)).active
        assert sheet is not None
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert values[0] == rows[0]
        assert len(values) == len(rows)
        # A leader sees the indicators, not the list.
        page = await web.get(f"/periods/{org.period_id}/indicators", "leader", "en")
        assert page.status_code == 200
        assert "Units without an action plan" not in page.text


async def test_form_posts_change_the_plan_and_bad_ones_show_the_message_and_change_nothing(
    actionplan: Any, produce: Any
) -> None:
    org = an_org()
    async with actionplan() as app:
        plan = await app.opened_plan(produce, org)
        plan_id = plan["plan_id"]
        web = Web(app)
        page = f"/plans/{plan_id}"

        async def unchanged_since(before: dict[str, Any]) -> None:
            now = await app.plan(org.period_id, "S-PUB")
            assert now["revision"] == before["revision"]
            assert now["history"] == before["history"]

        # Focus areas: accept one.
        reply = await web.post(
            f"{page}/focus-areas/sc1",
            "leader",
            {"decision": "accepted", "revision": plan["revision"]},
        )
        assert reply.status_code == 303, reply.text
        assert reply.headers["location"] == f"{page}?saved=focus#focus"
        # Behind the proxy every link and redirect carries its prefix.
        proxied = await app.client.get(
            page, headers={**token("leader"), "X-Forwarded-Prefix": "/actionplan"}
        )
        links = re.findall(r'(?:href|action)="(/[^"]*)"', proxied.text)
        assert links
        others = {href for _, href in NAV_SECTIONS}  # the header's links to the other services
        assert [x for x in links if not x.startswith("/actionplan/") and x not in others] == []
        plan = await app.plan(org.period_id, "S-PUB")
        assert plan["focus"]["areas"][0]["decision"] == "accepted"
        # A stale revision: a conflict, nothing changed.
        reply = await web.post(
            f"{page}/focus-areas/wc1", "leader", {"decision": "dismissed", "revision": 1}
        )
        assert reply.status_code == 409
        await unchanged_since(plan)

        # Dialogue: a date in the future is refused, next to its field.
        future = (app.clock.now() + timedelta(days=3)).date().isoformat()
        reply = await web.post(
            f"{page}/dialogue?lang=en", "leader", {"step": "staff", "held_on": future, "note": "x"}
        )
        assert reply.status_code == 422
        assert "The date is in the future" in reply.text
        assert 'id="dialogue-held_on-error"' in reply.text
        assert re.search(r'id="dialogue-held_on"[^>]*aria-invalid="true"', reply.text)
        assert 'aria-describedby="dialogue-held_on-hint dialogue-held_on-error"' in reply.text
        assert 'class="error-summary" role="alert"' in reply.text
        assert f'value="{future}"' in reply.text  # what was typed is kept
        await unchanged_since(plan)
        reply = await web.post(
            f"{page}/dialogue?lang=nb", "leader", {"step": "staff", "held_on": ""}
        )
        assert reply.status_code == 422
        assert "Fyll ut dette feltet." in reply.text
        today = app.clock.now().date().isoformat()
        reply = await web.post(
            f"{page}/dialogue", "leader", {"step": "staff", "held_on": today, "note": "Møte"}
        )
        assert reply.status_code == 303
        plan = await app.plan(org.period_id, "S-PUB")
        assert [(d["step"], d["note"]) for d in plan["dialogue"]] == [("staff", "Møte")]
        # Only editors record the dialogue.
        assert (
            await web.post(
                f"{page}/dialogue", "representative", {"step": "staff", "held_on": today}
            )
        ).status_code == 403

        # A measure: the bad ones refused with each problem at its field.
        good = {
            "category": "patient_safety",
            "linked_id": "sc1",
            "title": "Daily safety huddle",
            "description": "Ten minutes at the board.",
            "responsible_person_id": PEOPLE["leader"],
            "deadline": "2027-05-01",
            "desired_effect": "Everyone speaks up.",
            "extra_resources": "",
            "continued": "no",
        }
        bad = {**good, "deadline": "2027-01-01", "responsible_person_id": "E-NOBODY"}
        reply = await web.post(f"{page}/measures/new?lang=nn", "leader", bad)
        assert reply.status_code == 422
        assert "Fristen er passert" in reply.text
        assert "Personen finst ikkje i katalogen" in reply.text
        assert 'id="deadline-error"' in reply.text
        assert 'id="responsible_person_id-error"' in reply.text
        assert 'value="Daily safety huddle"' in reply.text
        reply = await web.post(
            f"{page}/measures/new?lang=en", "leader", {**good, "title": "x" * 201}
        )
        assert reply.status_code == 422
        assert "200 characters at most" in reply.text
        reply = await web.post(f"{page}/measures/new", "leader", {**good, "title": ""})
        assert reply.status_code == 422
        await unchanged_since(plan)
        reply = await web.post(f"{page}/measures/new", "representative", good)
        assert reply.status_code == 403
        reply = await web.post(f"{page}/measures/new", "leader", good)
        assert reply.status_code == 303
        assert reply.headers["location"] == f"{page}?saved=added#measures"
        plan = await app.plan(org.period_id, "S-PUB")
        [made] = plan["measures"]
        assert (made["title"], made["linked_id"], made["continued"]) == (
            "Daily safety huddle",
            "sc1",
            False,
        )
        shown = await web.get(page, "employee", "nb")
        assert shown.status_code == 403  # stage 1: not yet for employees
        shown = await web.get(f"{page}?saved=added", "representative", "nb")
        assert "Tiltaket er lagt til." in shown.text
        assert "Daily safety huddle" in shown.text

        # Editing: a stale edit is a conflict showing what is stored now, not an overwrite.
        edit = f"{page}/measures/{made['measure_id']}"
        form = {
            **good,
            "revision": made["revision"],
            "status": "in_progress",
            "cancel_reason": "",
            "evaluation_done": "",
            "evaluation_observed": "",
            "evaluation_decision": "",
        }
        first = await web.post(edit, "leader_above", {**form, "title": "Huddle at 08:00"})
        assert first.status_code == 303
        second = await web.post(edit + "?lang=en", "leader", {**form, "title": "Huddle at 09:00"})
        assert second.status_code == 409
        assert "Someone else changed this since you opened it" in second.text
        assert "The measure as stored now" in second.text
        assert 'value="Huddle at 09:00"' in second.text
        current = (await app.plan(org.period_id, "S-PUB"))["measures"][0]
        assert current["title"] == "Huddle at 08:00"
        assert f'name="revision" value="{current["revision"]}"' in second.text
        # Cancelled needs a reason.
        reply = await web.post(
            edit + "?lang=en",
            "leader",
            {**form, "revision": current["revision"], "status": "cancelled"},
        )
        assert reply.status_code == 422
        assert "Say why the measure is cancelled." in reply.text
        assert 'id="cancel_reason-error"' in reply.text
        # The PDSA evaluation.
        reply = await web.post(
            edit,
            "leader",
            {
                **form,
                "revision": current["revision"],
                "title": "Huddle at 08:00",
                "status": "done",
                "evaluation_done": "Held every morning.",
                "evaluation_observed": "More reports.",
                "evaluation_decision": "adopt",
            },
        )
        assert reply.status_code == 303, reply.text
        current = (await app.plan(org.period_id, "S-PUB"))["measures"][0]
        assert (current["status"], current["evaluation_decision"]) == ("done", "adopt")

        # Comments: representatives may, and the text is required.
        assert (await web.post(f"{page}/comments", "union_rep", {"text": ""})).status_code == 422
        assert (
            await web.post(f"{page}/comments", "union_rep", {"text": "Good plan."})
        ).status_code == 303
        assert (await web.post(f"{page}/comments", "hr_admin", {"text": "No."})).status_code == 403
        plan = await app.plan(org.period_id, "S-PUB")
        assert [c["text"] for c in plan["comments"]] == ["Good plan."]

        # Completion refused while the checklist is not met: the checklist is shown.
        k = await app.plan(org.period_id, "K", role="leader_above")
        reply = await web.post(
            f"/plans/{k['plan_id']}/complete?lang=en", "leader_above", {"revision": k["revision"]}
        )
        assert reply.status_code == 422
        assert "The plan cannot be marked complete yet" in reply.text
        assert "Fill in this field" not in reply.text
        assert "The results were discussed with the whole staff." in reply.text
        assert (await app.plan(org.period_id, "K", role="leader_above"))["version"] == 0
        reply = await web.post(f"{page}/complete", "leader", {"revision": plan["revision"]})
        assert reply.status_code == 303, reply.text
        plan = await app.plan(org.period_id, "S-PUB")
        assert plan["version"] == 1
        archived = await web.get(f"{page}/versions/1", "representative", "en")
        assert archived.status_code == 200
        assert "This is version 1" in archived.text
        assert "<form" not in archived.text.split("<main", 1)[1]
        # History: who, when, what, for every change above.
        shown = await web.get(page, "leader", "en")
        for what in (
            "Plan opened with",
            "Measure added: Daily safety huddle.",
            "Huddle at 08:00: title changed; status: Planned → In progress.",
            "Version 1 marked complete.",
        ):
            assert what in shown.text

        # Escalation: lifted with a reason, accepted once in the parent's inbox.
        lifted = (
            await app.send(
                "POST", f"/api/v1/plans/{plan_id}/measures", "leader", measure(title="Staffing")
            )
        ).json()
        escalate = f"{page}/measures/{lifted['measure_id']}/escalate"
        reply = await web.post(escalate, "leader", {"reason": "", "revision": lifted["revision"]})
        assert reply.status_code == 422
        reply = await web.post(
            escalate, "leader", {"reason": "Needs the clinic.", "revision": lifted["revision"]}
        )
        assert reply.status_code == 303
        inbox = f"/periods/{org.period_id}/inbox"
        shown = await web.get(inbox, "leader_above", "en")
        assert "Staffing" in shown.text
        assert "Needs the clinic." in shown.text
        [pending] = (await app.get(f"/api/v1{inbox}", "leader_above")).json()["incoming"]
        decide = f"/escalations/{pending['escalation_id']}"
        reply = await web.post(f"{decide}/decline", "leader_above", {"reason": ""})
        assert reply.status_code == 422
        assert f'id="decline-{pending["escalation_id"]}-reason-error"' in reply.text
        assert (await web.post(f"{decide}/accept", "leader", {})).status_code == 403
        reply = await web.post(f"{decide}/accept", "leader_above", {})
        assert reply.status_code == 303
        assert reply.headers["location"] == f"{inbox}?saved=accepted"
        again = await web.post(f"{decide}/accept?lang=en", "leader_above", {})
        assert again.status_code == 409
        assert "already accepted" in again.text
        parent = await app.plan(org.period_id, "K", role="leader_above")
        assert [m["title"] for m in parent["measures"]] == ["Staffing"]
        shown = await web.get(page, "leader", "en")
        assert "Taken into the plan of Klinikk" in shown.text


async def test_carry_over_and_a_declined_escalation_through_the_pages(
    actionplan: Any, produce: Any
) -> None:
    last, this = last_year_and_this()
    async with actionplan() as app:
        old = await app.opened_plan(produce, last)
        unfinished = (
            await app.send(
                "POST", f"/api/v1/plans/{old['plan_id']}/measures", "leader", measure(title="Old")
            )
        ).json()
        new = await app.opened_plan(produce, this)
        web = Web(app)
        page = f"/plans/{new['plan_id']}"
        shown = await web.get(page, "leader", "nb")
        assert "Videreføre tiltak fra forrige plan" in shown.text
        assert f'value="{unfinished["measure_id"]}"' in shown.text
        reply = await web.post(f"{page}/carry-over?lang=nb", "leader", {})
        assert reply.status_code == 422
        assert "Velg minst ett tiltak." in reply.text
        assert (await app.plan(this.period_id, "S-PUB"))["measures"] == []
        reply = await web.post(
            f"{page}/carry-over", "leader", {"measure_ids": [unfinished["measure_id"]]}
        )
        assert reply.status_code == 303
        new = await app.plan(this.period_id, "S-PUB")
        assert [(m["title"], m["continued"]) for m in new["measures"]] == [("Old", True)]
        shown = await web.get(page, "leader", "en")
        assert "Carry over measures from the last plan" not in shown.text
        assert "Continued from an earlier plan" in shown.text

        # A staff-meeting review of the plan is one of the dialogue steps.
        today = app.clock.now().date().isoformat()
        reply = await web.post(
            f"{page}/dialogue", "leader", {"step": "staff_review", "held_on": today, "note": ""}
        )
        assert reply.status_code == 303
        shown = await web.get(page, "representative", "nn")
        assert "Planen gjennomgått i personalmøte" in shown.text

        # Declined by the parent's leader, with a reason: back in the unit's plan.
        [carried] = new["measures"]
        reply = await web.post(
            f"{page}/measures/{carried['measure_id']}/escalate",
            "leader",
            {"reason": "Too big for us.", "revision": carried["revision"]},
        )
        assert reply.status_code == 303
        inbox = (await app.get(f"/api/v1/periods/{this.period_id}/inbox", "leader_above")).json()
        [pending] = inbox["incoming"]
        reply = await web.post(
            f"/escalations/{pending['escalation_id']}/decline",
            "leader_above",
            {"reason": "Solve it with the section's budget."},
        )
        assert reply.status_code == 303
        shown = await web.get(page, "leader", "en")
        assert "Declined by Klinikk, back in this plan" in shown.text
        assert "Solve it with the section&#39;s budget." in shown.text
        # Declined, it may be lifted again.
        assert f"/measures/{carried['measure_id']}/escalate" in shown.text
