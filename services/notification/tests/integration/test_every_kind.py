"""A whole period, every kind of email, on the real broker and a real SMTP server: each
reaches exactly the people it is for, once, in their language, as valid MIME with the
headers of an automated email; no email holds a result of a unit under k."""

import re
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from forbedring_chassis.testing import unique_name
from forbedring_contracts.events import (
    MeasureEscalated,
    PlanDeadlineApproaching,
    PlanUpdated,
    ResultsReleased,
    SuppressedUnitResults,
)
from forbedring_contracts.examples import (
    MEASURE_ESCALATED,
    PLAN_DEADLINE_APPROACHING,
    PLAN_UPDATED,
    PUBLISHED_UNIT_RESULTS,
)
from services.notification.tests.integration.mail_checks import by_message_id, check_message
from services.notification.tests.org import (
    CLOSES_AT,
    OPENS_AT,
    a_period,
    address,
    holders,
    language_of,
    members_of,
)
from services.notification.tests.smtp import SmtpServer

LEADERS = holders("leader")
EVERYONE_INVITED = members_of("S11", "S12", "K2")

# What S12 (2 respondents, under k) would score if anything computed it: aggregation
# never publishes it; this service must never show it (nor any result at all).
S12_SECRET_FIGURES = ("73.21", "41.67", "73,21", "41,67")


def escalated(period_id: str, **fields: Any) -> MeasureEscalated:
    """S11's measure lifted to K1 (the example's, with what `fields` change)."""
    return MeasureEscalated(
        **{
            **MEASURE_ESCALATED.model_dump(),
            "period_id": period_id,
            "leader_person_ids": ("L-S11",),
            "to_leader_person_ids": ("L-K1",),
            "unit_id": "S11",
            "to_unit_id": "K1",
            **fields,
        }
    )


async def test_every_kind_reaches_exactly_its_recipients_in_their_language(
    notification: Any, produce: Any, smtp: SmtpServer
) -> None:
    period = a_period(unique_name("period"))
    pid = period.period_id
    async with notification(smtp_port=smtp.port) as running:
        clock = running.clock
        await produce(
            [
                period.directory,
                period.opened,
                period.participation("S11", 8),
                period.participation("S12", 2),
                period.participation("K2", 4),
                # A result of the small unit on the bus: this service does not read it.
                SuppressedUnitResults(
                    published=False,
                    period_id=pid,
                    unit_id="S12",
                    reason="too_few_respondents",
                    included_in="K1",
                ),
                PUBLISHED_UNIT_RESULTS.model_copy(
                    update={"period_id": pid, "unit_id": "S12", "respondents": 2}
                ),
            ]
        )
        await running.consumed()

        # Week one: a digest, no reminder yet. Again the same day: nothing more.
        clock.set(OPENS_AT + timedelta(days=7, hours=2))
        assert await running.scheduler.tick() == len(LEADERS)
        clock.advance(timedelta(hours=4))
        assert await running.scheduler.tick() == 0
        # After working hours on a digest day: nothing.
        clock.set(OPENS_AT + timedelta(days=14, hours=10))  # 18:00 in Oslo
        assert await running.scheduler.tick() == 0
        # The first reminder (14 days before closing) to everyone invited, and a digest.
        clock.set(CLOSES_AT - timedelta(days=14) + timedelta(hours=1))
        assert await running.scheduler.tick() == len(EVERYONE_INVITED) + len(LEADERS)
        # The last week: daily digests (on working days), the second reminder 3 days
        # before closing; none on a Saturday.
        clock.set(CLOSES_AT - timedelta(days=6) + timedelta(hours=1))  # a Tuesday
        assert await running.scheduler.tick() == len(LEADERS)
        clock.set(CLOSES_AT - timedelta(days=3) + timedelta(hours=1))  # the Friday
        assert await running.scheduler.tick() == len(EVERYONE_INVITED) + len(LEADERS)
        clock.advance(timedelta(days=1))
        assert await running.scheduler.tick() == 0

        clock.set(CLOSES_AT + timedelta(hours=1))
        await produce(
            [
                period.closed({"S11": 9, "S12": 2, "K2": 5, "HF": 0, "K1": 1}),
                ResultsReleased(
                    period_id=pid,
                    stage=1,
                    audience=("leader", "safety_rep", "union_rep", "hr_admin"),
                    released_at=CLOSES_AT + timedelta(days=1),
                ),
                ResultsReleased(
                    period_id=pid,
                    stage=2,
                    audience=("leader", "safety_rep", "union_rep", "hr_admin", "employee"),
                    released_at=CLOSES_AT + timedelta(days=8),
                ),
                PlanUpdated(**{**PLAN_UPDATED.model_dump(), "period_id": pid, "unit_id": "S11"}),
                PlanDeadlineApproaching(
                    **{
                        **PLAN_DEADLINE_APPROACHING.model_dump(),
                        "period_id": pid,
                        "unit_id": "S11",
                        "plan_id": "plan-S11",
                        "leader_person_ids": ("L-S11",),
                        "parent_leader_person_ids": ("L-K1",),
                    }
                ),
                PlanDeadlineApproaching(
                    **{
                        **PLAN_DEADLINE_APPROACHING.model_dump(),
                        "period_id": pid,
                        "unit_id": "S12",
                        "plan_id": None,
                        "deadline": date(2026, 6, 30),
                        "days_left": 0,
                        "threshold_days": 0,
                        "overdue": True,
                        "days_overdue": 3,
                        "leader_person_ids": ("L-S12",),
                        "parent_leader_person_ids": ("L-K1",),
                        "missing": ("plan",),
                    }
                ),
                PlanDeadlineApproaching(
                    **{
                        **PLAN_DEADLINE_APPROACHING.model_dump(),
                        "period_id": pid,
                        "unit_id": "K2",
                        "plan_id": "plan-K2",
                        "subject": "measure",
                        "measure_id": "m-9",
                        "measure_title": "Opplæring i avvikssystemet",
                        "threshold_days": 7,
                        "days_left": 7,
                        "leader_person_ids": ("L-K2",),
                        "responsible_person_ids": ("E-K2-03", "E-GHOST"),
                    }
                ),
                escalated(pid),
                escalated(pid, step="accepted"),
                escalated(
                    pid,
                    step="declined",
                    measure_id="m-4",
                    title="Ny turnusordning",
                    reason="Løses best på posten.",
                ),
            ]
        )
        counts = await running.settled()
        rows = await running.deliveries(period_id=pid)

    expected: dict[str, list[str]] = {
        "period_opened_leader": sorted(LEADERS),
        "period_opened_employee": sorted(EVERYONE_INVITED),
        "reminder": sorted(EVERYONE_INVITED) * 2,
        "participation_digest": sorted(LEADERS) * 4,
        "period_closed": sorted(LEADERS),
        "results_released": sorted(
            holders("leader", "safety_rep", "union_rep", "hr_admin") | EVERYONE_INVITED
        )
        + sorted(holders("leader", "safety_rep", "union_rep", "hr_admin") & EVERYONE_INVITED),
        "plan_published": sorted(members_of("S11") | {"SR-S11"}),
        "plan_deadline": sorted(["L-S11", "L-S12", "L-K1"]),
        "measure_deadline": sorted(["E-K2-03", "E-GHOST"]),
        "measure_escalated": ["L-K1"],
        "measure_decided": ["L-S11", "L-S11"],
    }
    got: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        got[row["kind"]].append(row["person_id"])
    assert {kind: sorted(people) for kind, people in got.items()} == {
        kind: sorted(people) for kind, people in expected.items()
    }

    # The one person without an address is shown as failed, and nobody else.
    failed = [row for row in rows if row["status"] != "sent"]
    assert [(r["person_id"], r["status"]) for r in failed] == [("E-GHOST", "failed")]
    assert "no email address" in failed[0]["last_error"]
    assert counts == {"sent": len(rows) - 1, "failed": 1}

    # Exactly one message per sent row, to that row's address alone, and nothing else.
    received = by_message_id(smtp.mailbox.snapshot())
    sent = [row for row in rows if row["status"] == "sent"]
    assert sorted(received) == sorted(row["message_id"] for row in sent)
    for row in sent:
        [mail] = received[row["message_id"]]
        assert mail.recipients == (row["email"],)
        assert row["email"] == address(row["person_id"])
        assert row["language"] == language_of(row["person_id"])
        check_message(mail.message, row)

    # Every kind went out in all three languages (the recipients' own).
    languages = defaultdict(set)
    for row in sent:
        languages[row["kind"]].add(row["language"])
    assert {kind for kind, found in languages.items() if found == {"nb", "nn", "en"}} >= {
        "period_opened_leader",
        "period_opened_employee",
        "reminder",
        "participation_digest",
        "period_closed",
        "results_released",
        "plan_published",
        "plan_deadline",
    }

    # No figure of a unit under k, in any email; the release emails carry no figure at all.
    for mails in received.values():
        body = mails[0].raw.decode()
        assert not any(figure in body for figure in S12_SECRET_FIGURES)
    for row in sent:
        if row["kind"] == "results_released":
            message = received[row["message_id"]][0].message
            text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            text = text.replace(f"/publication/periods/{pid}", "")
            assert not re.search(r"\d", text.replace(f"Person {row['person_id']}", ""))

    # The digest shows the small unit's participation (public) and flags it at risk.
    digest = next(
        r for r in sent if r["kind"] == "participation_digest" and r["person_id"] == "L-K1"
    )
    text = received[digest["message_id"]][0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Dagpost 12: 2 av 3 har svart (67 %) [i fare for å ikkje få resultat]" in text
