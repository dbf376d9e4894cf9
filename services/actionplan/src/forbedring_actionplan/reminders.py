"""Use cases of deadline reminders (`domain/deadlines.py`): arm a subject when its
deadline is set or moved, and send what is due (the scheduler's tick).

Exactly once per (plan or measure, deadline, threshold), with any number of replicas and
across restarts: a reminder's ledger row (unique key) is inserted in the same transaction
as its event is staged in the outbox; a replica that inserts nothing sends nothing. The
events carry whom to tell and what is missing, never a result figure."""

from collections.abc import Sequence
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
    day = today(now)
    horizon = day + timedelta(days=max(deadlines.THRESHOLDS))
    measures = await repository.due_measures(session, today=day, horizon=horizon)
    plans = await repository.due_plans(session, today=day, horizon=horizon)
    rows = sorted(
        [
            *(_ledger(m.measure_id, "measure", m.deadline, m.threshold) for m in measures),
            *(_ledger(p.plan_id, "plan", p.deadline, p.threshold) for p in plans),
        ],
        key=lambda rs: rs[0].subject_id,
    )
    claimed = await repository.claim(session, rows=[r for group in rows for r in group], now=now)
    measures = [m for m in measures if (m.measure_id, m.threshold) in claimed]
    plans = [p for p in plans if (p.plan_id, p.threshold) in claimed]
    units = [(m.period_id, m.unit_id) for m in measures] + [(p.period_id, p.unit_id) for p in plans]
    parents = await repository.parents_of(
        session, period_ids=[u[0] for u in units], unit_ids=[p.unit_id for p in plans]
    )
    overdue_parents = [
        (p.period_id, parent)
        for p in plans
        if p.threshold == deadlines.OVERDUE and (parent := parents.get((p.period_id, p.unit_id)))
    ]
    leaders = await repository.leaders_of(
        session,
        period_ids=[u[0] for u in units],
        unit_ids=[u[1] for u in units + overdue_parents],
    )
    missing = await _missing(session, [p.plan_id for p in plans])
    sent: list[Sent] = []
    events: list[PlanDeadlineApproaching] = []
    for m in measures:
        events.append(
            _event(
                plan_id=m.plan_id,
                period_id=m.period_id,
                unit_id=m.unit_id,
                deadline=m.deadline,
                threshold=m.threshold,
                day=day,
                leaders=leaders.get((m.period_id, m.unit_id), []),
                subject="measure",
                measure_id=m.measure_id,
                measure_title=m.title,
                responsible=[m.responsible_person_id] if m.responsible_person_id else [],
            ),
        )
        sent.append(Sent(m.period_id, "measure", m.measure_id, m.deadline, m.threshold))
    for p in plans:
        parent = parents.get((p.period_id, p.unit_id))
        events.append(
            _event(
                plan_id=p.plan_id,
                period_id=p.period_id,
                unit_id=p.unit_id,
                deadline=p.deadline,
                threshold=p.threshold,
                day=day,
                leaders=leaders.get((p.period_id, p.unit_id), []),
                subject="plan",
                parent_leaders=(
                    leaders.get((p.period_id, parent), [])
                    if parent and p.threshold == deadlines.OVERDUE
                    else []
                ),
                missing=missing.get(p.plan_id, []),
            ),
        )
        sent.append(Sent(p.period_id, "plan", p.plan_id, p.deadline, p.threshold))
    await stage_events(session, events)
    return sent


def _ledger(subject_id: str, subject: str, deadline: date, threshold: int) -> list[LedgerRow]:
    return [
        LedgerRow(subject_id, subject, deadline, t, t == threshold)
        for t in sorted(deadlines.passed_with(threshold))
    ]


def _event(
    *,
    plan_id: str,
    period_id: str,
    unit_id: str,
    deadline: date,
    threshold: int,
    day: date,
    leaders: Sequence[str],
    subject: str,
    measure_id: str | None = None,
    measure_title: str | None = None,
    responsible: Sequence[str] = (),
    parent_leaders: Sequence[str] = (),
    missing: Sequence[str] = (),
) -> PlanDeadlineApproaching:
    left = deadlines.days_left(deadline, day)
    return PlanDeadlineApproaching(
        plan_id=plan_id,
        period_id=period_id,
        unit_id=unit_id,
        deadline=deadline,
        days_left=max(left, 0),
        leader_person_ids=tuple(leaders),
        subject="measure" if subject == "measure" else "plan",
        measure_id=measure_id,
        measure_title=measure_title,
        threshold_days=threshold,
        overdue=left < 0,
        days_overdue=max(-left, 0),
        responsible_person_ids=tuple(responsible),
        parent_leader_person_ids=tuple(parent_leaders),
        missing=tuple(missing),
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
