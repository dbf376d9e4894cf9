"""Use cases fed by publication's and actionplan's events: results released, plans agreed,
deadlines, escalations. Each writes ledger rows in the consumer's transaction.

The recipients of actionplan's events are named by person id in the event itself; their
addresses come from the service's copy of the directory. A person with no known address
gets a failed row (visible to HR), never a silent drop."""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_contracts.events import (
    MeasureEscalated,
    PlanDeadlineApproaching,
    PlanUpdated,
    ResultsReleased,
)
from forbedring_notification import ledger, repository
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.domain.recipients import plan_audience, release_audience
from forbedring_notification.ledger import Letter, iso
from forbedring_notification.models import Period


async def results_released(session: AsyncSession, *, event: ResultsReleased, now: datetime) -> None:
    """Stage 1 to the roles of the audience, stage 2 to every employee: a link, no figure.
    The stage is kept with the period, so a directory read after it still reaches them."""
    period = await repository.lock_period(session, period_id=event.period_id)
    stage = {"stage": event.stage, "audience": list(event.audience)}
    if stage not in period.released:
        period.released = [*period.released, stage]
        session.add(period)
    await announce_release(session, period, stage=event.stage, audience=event.audience, now=now)


async def announce_release(
    session: AsyncSession,
    period: Period,
    *,
    stage: int,
    audience: Sequence[str],
    now: datetime,
) -> None:
    directory = await repository.directory(session, period_id=period.period_id)
    context = {
        "period_id": period.period_id,
        "period_name": period.name or period.period_id,
        "stage": stage,
        "plan_deadline": iso(period.plan_deadline),
    }
    letters = [
        Letter(
            kind=Kind.RESULTS_RELEASED,
            fact=f"release:{period.period_id}:{stage}",
            person_id=person_id,
            reason=f"results-released stage {stage}: you may read the results",
            context=context,
        )
        for person_id in release_audience(directory, stage=stage, audience=audience)
    ]
    await ledger.write(
        session, letters, people=directory.people, period_id=period.period_id, now=now
    )


async def plan_updated(session: AsyncSession, *, event: PlanUpdated, now: datetime) -> None:
    """A plan agreed (active) is told once to the unit's staff and representatives."""
    if event.status != "active":
        return
    period = await repository.lock_period(session, period_id=event.period_id)
    directory = await repository.directory(session, period_id=event.period_id)
    context = {
        "period_id": event.period_id,
        "period_name": period.name or event.period_id,
        "unit_name": directory.unit_name(event.unit_id),
        "unit_id": event.unit_id,
        "plan_id": event.plan_id,
        "measure_count": event.measure_count,
        "deadline": iso(event.deadline),
    }
    letters = [
        Letter(
            kind=Kind.PLAN_PUBLISHED,
            fact=f"plan:{event.plan_id}:active",
            person_id=person_id,
            unit_id=event.unit_id,
            reason="plan-updated: your unit's action plan is agreed",
            context=context,
        )
        for person_id in plan_audience(directory, event.unit_id)
    ]
    await ledger.write(
        session, letters, people=directory.people, period_id=event.period_id, now=now
    )


async def plan_deadline_approaching(
    session: AsyncSession, *, event: PlanDeadlineApproaching, now: datetime
) -> None:
    """A plan's deadline: its unit's leaders, and once overdue the leaders above. A
    measure's deadline: the person responsible for it."""
    period = await repository.lock_period(session, period_id=event.period_id)
    directory = await repository.directory(session, period_id=event.period_id)
    reminder = event.threshold_days if event.threshold_days is not None else event.days_left
    subject_id = event.measure_id if event.subject == "measure" else event.plan_id or "none"
    fact = (
        f"deadline:{event.period_id}:{event.unit_id}:{event.subject}:{subject_id}:"
        f"{'overdue' if event.overdue else reminder}"
    )
    context = {
        "period_id": event.period_id,
        "period_name": period.name or event.period_id,
        "unit_id": event.unit_id,
        "unit_name": directory.unit_name(event.unit_id),
        "plan_id": event.plan_id,
        "deadline": iso(event.deadline),
        "days_left": event.days_left,
        "overdue": event.overdue,
        "days_overdue": event.days_overdue,
        "missing": list(event.missing),
        "measure_title": event.measure_title,
    }
    recipients: list[tuple[Kind, str, bool]] = []
    if event.subject == "measure":
        recipients = [(Kind.MEASURE_DEADLINE, p, False) for p in event.responsible_person_ids]
    else:
        recipients = [(Kind.PLAN_DEADLINE, p, False) for p in event.leader_person_ids]
        if event.overdue:
            own = set(event.leader_person_ids)
            recipients += [
                (Kind.PLAN_DEADLINE, p, True)
                for p in event.parent_leader_person_ids
                if p not in own
            ]
    people = await repository.people_anywhere(
        session, period_id=event.period_id, person_ids=[p for _, p, _ in recipients]
    )
    letters = [
        Letter(
            kind=kind,
            fact=fact,
            person_id=person_id,
            unit_id=event.unit_id,
            reason=(
                "plan-deadline-approaching: a plan below you is overdue"
                if above
                else f"plan-deadline-approaching: {event.subject} "
                + ("overdue" if event.overdue else f"due in {event.days_left} days")
            ),
            context={**context, "above": above},
        )
        for kind, person_id, above in dict.fromkeys(recipients)
    ]
    await ledger.write(session, letters, people=people, period_id=event.period_id, now=now)


async def measure_escalated(
    session: AsyncSession, *, event: MeasureEscalated, now: datetime
) -> None:
    """Lifted: the leaders of the unit it was lifted to decide. Accepted or declined: the
    leaders of the unit that lifted it are told."""
    period = await repository.lock_period(session, period_id=event.period_id)
    directory = await repository.directory(session, period_id=event.period_id)
    if event.step == "escalated":
        kind, person_ids = Kind.MEASURE_ESCALATED, event.to_leader_person_ids
        if not person_ids:
            person_ids = tuple(directory.leaders_of(event.to_unit_id))
    else:
        kind, person_ids = Kind.MEASURE_DECIDED, event.leader_person_ids
        if not person_ids:
            person_ids = tuple(directory.leaders_of(event.unit_id))
    people = await repository.people_anywhere(
        session, period_id=event.period_id, person_ids=person_ids
    )
    context = {
        "period_id": event.period_id,
        "period_name": period.name or event.period_id,
        "unit_id": event.unit_id,
        "unit_name": directory.unit_name(event.unit_id),
        "to_unit_id": event.to_unit_id,
        "to_unit_name": directory.unit_name(event.to_unit_id),
        "title": event.title,
        "reason": event.reason,
        "step": event.step,
    }
    letters = [
        Letter(
            kind=kind,
            fact=f"escalation:{event.period_id}:{event.measure_id}:{event.to_unit_id}:{event.step}",
            person_id=person_id,
            unit_id=event.to_unit_id if event.step == "escalated" else event.unit_id,
            reason=f"measure-escalated ({event.step})",
            context=context,
        )
        for person_id in dict.fromkeys(person_ids)
    ]
    await ledger.write(session, letters, people=people, period_id=event.period_id, now=now)
