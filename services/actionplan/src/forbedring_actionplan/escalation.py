"""Use cases of escalation (a measure that cannot be solved at its unit's level is lifted
to the parent unit's plan): lift it with a reason; the parent's leader accepts it (it
becomes a measure of the parent's plan, linked both ways) or declines it with a reason
(it goes back). Escalating from the root is refused, and so is deciding twice. Every
step emits measure-escalated."""

from datetime import datetime
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import repository
from forbedring_actionplan.context import (
    PlanContext,
    changed,
    load,
    record,
    require_edit,
    require_revision,
)
from forbedring_actionplan.errors import EscalationRefused, Forbidden, NotFound
from forbedring_actionplan.models import Escalation, Measure, Plan
from forbedring_actionplan.schemas import EscalationCreate, EscalationDecline
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import MeasureEscalated


async def escalate(
    session: AsyncSession,
    *,
    plan_id: str,
    measure_id: str,
    body: EscalationCreate,
    person_id: str,
    now: datetime,
) -> Escalation:
    context = await load(session, plan_id=plan_id, person_id=person_id, lock=True)
    require_edit(context)
    measure = await repository.get_measure(session, measure_id=measure_id, lock=True)
    if measure is None or measure.plan_id != plan_id:
        raise NotFound(f"Plan {plan_id!r} has no measure {measure_id!r}.")
    require_revision(stored=measure.revision, sent=body.revision, what="measure")
    if context.parent is None:
        raise EscalationRefused(
            f"{context.unit.name} is the top of the organisation: there is no plan above it "
            "to lift the measure to. Solve it in this plan."
        )
    if measure.escalated_to_measure_id is not None:
        raise EscalationRefused("This measure was already taken over by the plan above.")
    if await repository.pending_escalation_of(session, measure_id=measure_id):
        raise EscalationRefused("This measure is already waiting for the plan above to decide.")
    target = await repository.plan_of_unit(
        session, period_id=context.plan.period_id, unit_id=context.parent.unit_id
    )
    if target is None:
        raise EscalationRefused(f"{context.parent.name} has no plan in this period yet.")
    escalation = Escalation(
        escalation_id=str(uuid4()),
        measure_id=measure_id,
        from_plan_id=plan_id,
        to_plan_id=target.plan_id,
        reason=body.reason,
        escalated_by=person_id,
        escalated_at=now,
    )
    session.add(escalation)
    measure.revision += 1
    session.add(measure)
    await _emit(
        session, escalation=escalation, measure=measure, source=context.plan, target=target, now=now
    )
    await changed(
        session,
        context,
        action="escalated",
        params={
            "title": measure.title,
            "unit_id": context.parent.unit_id,
            "unit_name": context.parent.name,
        },
        now=now,
        measure_id=measure_id,
    )
    return escalation


async def _decision(
    session: AsyncSession, *, escalation_id: str, person_id: str
) -> tuple[Escalation, Measure, Plan, PlanContext]:
    found = await repository.get_escalation(session, escalation_id=escalation_id)
    if found is None:
        raise NotFound(f"There is no escalation {escalation_id!r}.")
    context = await load(session, plan_id=found.to_plan_id, person_id=person_id, lock=True)
    if not context.access.edit:
        raise Forbidden("Only the leaders of the unit it was lifted to may decide on it.")
    escalation = await repository.get_escalation(session, escalation_id=escalation_id, lock=True)
    assert escalation is not None
    if escalation.status != "pending":
        raise EscalationRefused(
            f"This escalation was already {escalation.status}; it cannot be decided again."
        )
    measure = await repository.get_measure(session, measure_id=escalation.measure_id, lock=True)
    source = await repository.get_plan(session, plan_id=escalation.from_plan_id)
    assert measure is not None
    assert source is not None
    return escalation, measure, source, context


async def accept(
    session: AsyncSession, *, escalation_id: str, person_id: str, now: datetime
) -> Escalation:
    escalation, measure, source, context = await _decision(
        session, escalation_id=escalation_id, person_id=person_id
    )
    target = context.plan
    taken = Measure(
        measure_id=str(uuid4()),
        plan_id=target.plan_id,
        position=await repository.count_measures(session, plan_id=target.plan_id),
        category=measure.category,
        linked_id=measure.linked_id,
        title=measure.title,
        description=measure.description,
        desired_effect=measure.desired_effect,
        extra_resources=measure.extra_resources,
        deadline=measure.deadline,
        origin_measure_id=measure.measure_id,
        created_at=now,
    )
    session.add(taken)
    escalation.status, escalation.decided_by, escalation.decided_at = "accepted", person_id, now
    escalation.to_measure_id = taken.measure_id
    session.add(escalation)
    measure.escalated_to_measure_id = taken.measure_id
    measure.revision += 1
    session.add(measure)
    await _emit(
        session, escalation=escalation, measure=measure, source=source, target=target, now=now
    )
    await changed(
        session,
        context,
        action="escalation_accepted",
        params={"title": measure.title},
        now=now,
        measure_id=taken.measure_id,
    )
    await _touch_source(session, source=source, person_id=person_id, now=now, what="accepted")
    return escalation


async def decline(
    session: AsyncSession,
    *,
    escalation_id: str,
    body: EscalationDecline,
    person_id: str,
    now: datetime,
) -> Escalation:
    escalation, measure, source, context = await _decision(
        session, escalation_id=escalation_id, person_id=person_id
    )
    target = context.plan
    escalation.status, escalation.decided_by, escalation.decided_at = "declined", person_id, now
    escalation.decline_reason = body.reason
    session.add(escalation)
    measure.revision += 1
    session.add(measure)
    await _emit(
        session, escalation=escalation, measure=measure, source=source, target=target, now=now
    )
    await changed(
        session,
        context,
        action="escalation_declined",
        params={"title": measure.title},
        now=now,
    )
    await _touch_source(session, source=source, person_id=person_id, now=now, what="declined")
    return escalation


async def _touch_source(
    session: AsyncSession, *, source: Plan, person_id: str, now: datetime, what: str
) -> None:
    locked = await repository.get_plan(session, plan_id=source.plan_id, lock=True)
    assert locked is not None
    await record(
        session,
        plan=locked,
        person_id=person_id,
        action="escalation_decided",
        params={"outcome": what},
        now=now,
    )


async def _emit(
    session: AsyncSession,
    *,
    escalation: Escalation,
    measure: Measure,
    source: Plan,
    target: Plan,
    now: datetime,
) -> None:
    leaders = await repository.leaders_of(
        session, period_ids=[source.period_id], unit_ids=[source.unit_id, target.unit_id]
    )
    stage_event(
        session,
        MeasureEscalated(
            plan_id=source.plan_id,
            period_id=source.period_id,
            measure_id=measure.measure_id,
            unit_id=source.unit_id,
            to_unit_id=target.unit_id,
            title=measure.title,
            escalated_at=escalation.escalated_at,
            step="escalated" if escalation.status == "pending" else escalation.status,  # type: ignore[arg-type]
            reason=escalation.reason
            if escalation.status != "declined"
            else escalation.decline_reason,
            to_measure_id=escalation.to_measure_id,
            leader_person_ids=tuple(leaders.get((source.period_id, source.unit_id), [])),
            to_leader_person_ids=tuple(leaders.get((source.period_id, target.unit_id), [])),
        ),
    )
