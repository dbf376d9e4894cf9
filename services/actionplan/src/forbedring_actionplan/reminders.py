"""Use cases of deadline reminders (`domain/deadlines.py`): arm a subject when its
deadline is set or moved, and send what is due (the scheduler's tick).

Exactly once per (plan or measure, deadline, threshold), with any number of replicas and
across restarts: a reminder's ledger row (unique key) is inserted in the same transaction
as its event is staged in the outbox; a replica that inserts nothing sends nothing. The
events carry whom to tell and what is missing, never a result figure."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import repository
from forbedring_actionplan.context import today
from forbedring_actionplan.domain import deadlines, quality
from forbedring_actionplan.repository.reminders import LedgerRow
from forbedring_chassis.outbox import stage_events
from forbedring_contracts.events import PlanDeadlineApproaching


async def arm(
    session: AsyncSession, *, subject_id: str, subject: str, deadline: date, now: datetime
) -> None:
    """A deadline set or moved: the thresholds already behind it count as passed, the
    others (still ahead) will be reminded."""
    behind = deadlines.already_behind(deadline, today(now))
    await repository.claim(
        session,
        rows=[LedgerRow(subject_id, subject, deadline, t, False) for t in behind],
        now=now,
    )


@dataclass(frozen=True)
class Sent:
    period_id: str
    subject: str
    subject_id: str
    deadline: date
    threshold: int


async def remind_due(session: AsyncSession, *, now: datetime) -> list[Sent]:
    """Claim and stage every reminder due at `now`: one statement finds and claims them
    (the ledger), three more give the leaders, parents and checklists, and the events go
    into the outbox in one batch."""
    day = today(now)
    horizon = day + timedelta(days=max(deadlines.THRESHOLDS))
    due = await repository.claim_due(
        session, today=day, horizon=horizon, passed=PASSED_WITH, now=now
    )
    plans = [d for d in due if d.subject == "plan"]
    parents = await repository.parents_of(
        session, period_ids=[p.period_id for p in plans], unit_ids=[p.unit_id for p in plans]
    )
    overdue_parents = [
        parent
        for p in plans
        if p.threshold == deadlines.OVERDUE and (parent := parents.get((p.period_id, p.unit_id)))
    ]
    leaders = await repository.leaders_of(
        session,
        period_ids=[d.period_id for d in due],
        unit_ids=[d.unit_id for d in due] + overdue_parents,
    )
    missing = await _missing(session, [p.plan_id for p in plans])
    events = [_event(d, day, leaders, parents, missing) for d in due]
    await stage_events(session, events)
    return [Sent(d.period_id, d.subject, d.subject_id, d.deadline, d.threshold) for d in due]


PASSED_WITH = {t: deadlines.passed_with(t) for t in (*deadlines.THRESHOLDS, deadlines.OVERDUE)}
"""The thresholds that count as passed when each one is reminded (the ledger's rows)."""


def _event(
    d: repository.Due,
    day: date,
    leaders: Mapping[tuple[str, str], Sequence[str]],
    parents: Mapping[tuple[str, str], str | None],
    missing: Mapping[str, Sequence[str]],
) -> PlanDeadlineApproaching:
    left = deadlines.days_left(d.deadline, day)
    measure = d.subject == "measure"
    parent = None if measure else parents.get((d.period_id, d.unit_id))
    return PlanDeadlineApproaching(
        plan_id=d.plan_id,
        period_id=d.period_id,
        unit_id=d.unit_id,
        deadline=d.deadline,
        days_left=max(left, 0),
        leader_person_ids=tuple(leaders.get((d.period_id, d.unit_id), ())),
        subject="measure" if measure else "plan",
        measure_id=d.subject_id if measure else None,
        measure_title=d.title if measure else None,
        threshold_days=d.threshold,
        overdue=left < 0,
        days_overdue=max(-left, 0),
        responsible_person_ids=(d.responsible_person_id,)
        if measure and d.responsible_person_id
        else (),
        parent_leader_person_ids=tuple(leaders.get((d.period_id, parent), ()))
        if parent and d.threshold == deadlines.OVERDUE
        else (),
        missing=() if measure else tuple(missing.get(d.plan_id, ())),
    )


async def _missing(session: AsyncSession, plan_ids: Sequence[str]) -> dict[str, list[str]]:
    """The checklist of each plan, from three queries whatever their number."""
    if not plan_ids:
        return {}
    rows = await repository.measure_rows(session, plan_ids=plan_ids)
    discussed = await repository.staff_discussed(session, plan_ids=plan_ids)
    refs = await repository.focus_refs(session, plan_ids=plan_ids)
    by_plan: dict[str, list[quality.MeasureFacts]] = {p: [] for p in plan_ids}
    for r in rows:
        by_plan[r.plan_id].append(
            quality.MeasureFacts(
                responsible=r.responsible,
                deadline=r.deadline is not None,
                desired_effect=r.desired_effect,
                linked_id=r.linked_id,
                status=r.status,
                escalated_away=r.escalated_away,
            )
        )
    return {
        p: quality.missing(
            staff_discussed=p in discussed, measures=facts, focus_refs=refs.get(p, set())
        )
        for p, facts in by_plan.items()
    }
