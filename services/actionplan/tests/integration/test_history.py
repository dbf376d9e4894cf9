"""A plan's history in the reader's language on the real broker and PostgreSQL: each
change is stored as a code and its parameters, and the plan page and the JSON API say
it in bokmål, nynorsk or English; an entry written before the parameters existed still
shows its stored English sentence."""

from datetime import timedelta
from typing import Any

import asyncpg

from forbedring_chassis.testing import plain_url
from services.actionplan.tests.integration.conftest import Actionplan
from services.actionplan.tests.integration.test_pages import Web, text_of
from services.actionplan.tests.integration.test_plans import measure
from services.actionplan.tests.org import RELEASED_AT, an_org

# What each change says on the page, per language (the questionnaire's item text is the
# test organisation's, "(nb)"/"(nn)" marked).
EXPECTED = {
    "nb": [
        "Planen ble åpnet med",
        "(fra enhetens egne resultater).",
        "Fokusområde «I would feel safe being treated here (nb)»: Foreslått → Valgt.",
        "Drøftet med alle ansatte, 01.03.2027.",
        "Tiltak lagt til: Daily safety huddle.",
        "Daily safety huddle: beskrivelse endret; frist: 01.05.2027 → 15.05.2027; "
        "status: Planlagt → Pågår.",
        "Kommentar lagt til.",
        "Daily safety huddle: løftet til Klinikk.",
    ],
    "nn": [
        "Planen vart opna med",
        "(frå resultata til eininga).",
        "Fokusområde «I would feel safe being treated here (nn)»: Føreslått → Vald.",
        "Drøfta med alle tilsette, 01.03.2027.",
        "Tiltak lagt til: Daily safety huddle.",
        "Daily safety huddle: skildring endra; frist: 01.05.2027 → 15.05.2027; "
        "status: Planlagt → Pågår.",
        "Kommentar lagd til.",
        "Daily safety huddle: løfta til Klinikk.",
    ],
    "en": [
        "Plan opened with",
        "(from the unit's own results).",
        "Focus area “I would feel safe being treated here”: Suggested → Chosen.",
        "Discussed with the whole staff, 1 Mar 2027.",
        "Measure added: Daily safety huddle.",
        "Daily safety huddle: description changed; deadline: 1 May 2027 → 15 May 2027; "
        "status: Planned → In progress.",
        "Comment added.",
        "Daily safety huddle: lifted to Klinikk.",
    ],
}
OLD_SENTENCE = "Comment added before history spoke every language."


async def _write_history(app: Actionplan, period_id: str) -> str:
    """Every kind of change a leader makes, through the API; returns the plan's id."""
    plan = await app.plan(period_id, "S-PUB")
    base = f"/api/v1/plans/{plan['plan_id']}"
    replies = [
        await app.send(
            "POST",
            f"{base}/focus-areas/sc1",
            "leader",
            {"decision": "accepted", "revision": plan["revision"]},
        ),
        await app.send(
            "POST", f"{base}/dialogue", "leader", {"step": "staff", "held_on": "2027-03-01"}
        ),
        added := await app.send("POST", f"{base}/measures", "leader", measure()),
    ]
    m = added.json()
    replies.append(
        edited := await app.send(
            "PATCH",
            f"{base}/measures/{m['measure_id']}",
            "leader",
            {
                "revision": m["revision"],
                "status": "in_progress",
                "deadline": "2027-05-15",
                "description": "Five minutes.",
            },
        )
    )
    replies.append(await app.send("POST", f"{base}/comments", "leader", {"text": "Good start."}))
    replies.append(
        await app.escalate(
            plan["plan_id"], m, "Needs the clinic's budget.", revision=edited.json()["revision"]
        )
    )
    assert [r.status_code for r in replies] == [200, 201, 201, 200, 201, 201], [
        r.text for r in replies
    ]
    return str(plan["plan_id"])


async def test_the_history_is_shown_in_the_readers_language(actionplan: Any, produce: Any) -> None:
    org = an_org()
    async with actionplan() as app:
        await produce(org.events())
        await app.wait_for_plans(org.period_id)
        plan_id = await _write_history(app, org.period_id)
        web = Web(app)
        for lang, expected in EXPECTED.items():
            page = await web.get(f"/plans/{plan_id}", "representative", lang)
            assert page.status_code == 200, page.text
            history = text_of(page.text.split('id="history"', 1)[1])
            assert [e for e in expected if e not in history] == [], (lang, history)
            others = [e for other in EXPECTED if other != lang for e in EXPECTED[other]]
            assert [e for e in others if e not in expected and e in history] == [], lang
        # The API: the code, its parameters and the text in the language asked for.
        reply = await app.get(f"/api/v1/plans/{plan_id}?lang=nn", "leader")
        entries = {h["action"]: h for h in reply.json()["history"]}
        changed = entries["measure_changed"]
        assert changed["params"]["changes"] == [
            {"field": "description"},
            {"field": "deadline", "before": "2027-05-01", "after": "2027-05-15"},
            {"field": "status", "before": "planned", "after": "in_progress"},
        ]
        assert changed["text"] == EXPECTED["nn"][5]
        assert changed["summary"].endswith(
            "deadline: 2027-05-01 → 2027-05-15; status: planned → in_progress."
        )
        assert entries["dialogue"]["params"] == {"step": "staff", "held_on": "2027-03-01"}
        assert entries["dialogue"]["text"] == "Drøfta med alle tilsette, 01.03.2027."
        assert entries["escalated"]["params"]["unit_id"] == "K"


async def test_an_entry_from_before_the_codes_still_shows_its_stored_sentence(
    actionplan: Any, produce: Any
) -> None:
    org = an_org()
    async with actionplan() as app:
        await produce(org.events())
        await app.wait_for_plans(org.period_id)
        # (Read in nn: the views read below in nb and en are not cached before the row.)
        reply = await app.get(f"/api/v1/periods/{org.period_id}/units/S-PUB/plan?lang=nn", "leader")
        plan = reply.json()
        # A row as the service wrote it before: an English sentence, no parameters.
        connection = await asyncpg.connect(plain_url(app.settings.database_url))
        try:
            await connection.execute(
                "INSERT INTO actionplan_history (plan_id, at, person_id, action, summary) "
                "VALUES ($1, $2, 'E-LEAD', 'comment', $3)",
                plan["plan_id"],
                RELEASED_AT + timedelta(minutes=5),
                OLD_SENTENCE,
            )
        finally:
            await connection.close()
        web = Web(app)
        page = await web.get(f"/plans/{plan['plan_id']}", "leader", "nb")
        assert f'Kommentar lagt til <span lang="en">({OLD_SENTENCE})</span>' in page.text
        page = await web.get(f"/plans/{plan['plan_id']}", "leader", "en")
        assert f"Comment added ({OLD_SENTENCE})" in text_of(page.text)
        reply = await app.get(f"/api/v1/plans/{plan['plan_id']}?lang=en", "leader")
        [old] = [h for h in reply.json()["history"] if h["params"] is None]
        assert (old["action"], old["summary"]) == ("comment", OLD_SENTENCE)
