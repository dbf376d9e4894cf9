"""Use cases that change a plan as a whole: focus-area decisions, the dialogue steps,
comments, carry-over of last period's unfinished measures, and completion (an immutable
version). Each locks the plan's row, checks who may, changes, and ends with a history
entry and plan-updated (`context.changed`)."""

from datetime import datetime
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import plan_view, repository
from forbedring_actionplan.context import (
    changed,
    checklist,
    load,
    require_comment,
    require_edit,
    require_revision,
    today,
)
from forbedring_actionplan.errors import ChecklistNotMet, Invalid, NotFound
from forbedring_actionplan.models import Comment, DialogueEntry, Measure, PlanVersion
from forbedring_actionplan.schemas import (
    CarryOver,
    CommentCreate,
    DialogueCreate,
    FocusDecisionUpdate,
    PlanComplete,
)

CHECKLIST_TEXT = {
    "staff_discussion": "Record when the results were discussed with the whole staff.",
    "measures": "Add at least one measure.",
    "measure_responsible": "Give every measure a responsible person.",
    "measure_deadline": "Give every measure a deadline.",
    "measure_desired_effect": "Write the desired effect of every measure.",
    "measure_linked_to_focus_area": "Link at least one measure to a focus area.",
}


async def decide_focus(
    session: AsyncSession,
    *,
    plan_id: str,
    ref_id: str,
    body: FocusDecisionUpdate,
    person_id: str,
    now: datetime,
) -> None:
    context = await load(session, plan_id=plan_id, person_id=person_id, lock=True)
    require_edit(context)
    require_revision(stored=context.plan.revision, sent=body.revision, what="plan")
    areas = {a.ref_id: a for a in await repository.focus_areas(session, plan_id=plan_id)}
    area = areas.get(ref_id)
    if area is None:
        raise NotFound(f"{ref_id!r} is not one of this plan's suggested focus areas.")
    before, area.decision = area.decision, body.decision
    session.add(area)
    await changed(
        session,
        context,
        action="focus_area",
        params={"ref_id": ref_id, "before": before, "after": body.decision},
        now=now,
    )


async def add_dialogue(
    session: AsyncSession, *, plan_id: str, body: DialogueCreate, person_id: str, now: datetime
) -> None:
    context = await load(session, plan_id=plan_id, person_id=person_id, lock=True)
    require_edit(context)
    if body.held_on > today(now):
        raise Invalid(
            f"The meeting date {body.held_on.isoformat()} is in the future: record a "
            "discussion once it has been held.",
            problems=[{"field": "held_on", "message": "in the future"}],
        )
    session.add(
        DialogueEntry(
            entry_id=str(uuid4()),
            plan_id=plan_id,
            step=body.step,
            held_on=body.held_on,
            note=body.note,
            recorded_by=person_id,
            recorded_at=now,
        )
    )
    await changed(
        session,
        context,
        action="dialogue",
        params={"step": body.step, "held_on": body.held_on.isoformat()},
        now=now,
    )


async def add_comment(
    session: AsyncSession, *, plan_id: str, body: CommentCreate, person_id: str, now: datetime
) -> None:
    context = await load(session, plan_id=plan_id, person_id=person_id, lock=True)
    require_comment(context)
    session.add(
        Comment(
            comment_id=str(uuid4()), plan_id=plan_id, person_id=person_id, text=body.text, at=now
        )
    )
    await changed(session, context, action="comment", params={}, now=now)


async def carry_over(
    session: AsyncSession, *, plan_id: str, body: CarryOver, person_id: str, now: datetime
) -> int:
    """Copy chosen unfinished measures of the unit's previous plan into this one, marked
    continued; a deadline already past becomes the plan's."""
    context = await load(session, plan_id=plan_id, person_id=person_id, lock=True)
    require_edit(context)
    offered = {m.measure_id: m for m in await plan_view.carry_over_offers(session, context)}
    unknown = [m for m in body.measure_ids if m not in offered]
    if unknown:
        raise Invalid(
            "Only unfinished measures of the unit's previous plan not carried over yet can "
            "be carried over.",
            problems=[{"measure_id": m, "message": "not offered"} for m in unknown],
        )
    day = today(now)
    first = await repository.count_measures(session, plan_id=plan_id)
    for position, measure_id in enumerate(dict.fromkeys(body.measure_ids), start=first):
        old = offered[measure_id]
        known = old.responsible_person_id and await repository.person_known(
            session, period_id=context.plan.period_id, person_id=old.responsible_person_id
        )
        session.add(
            Measure(
                measure_id=str(uuid4()),
                plan_id=plan_id,
                position=position,
                category=old.category,
                linked_id=old.linked_id,
                title=old.title,
                description=old.description,
                responsible_person_id=old.responsible_person_id if known else None,
                deadline=old.deadline
                if old.deadline and old.deadline >= day
                else context.plan.deadline,
                desired_effect=old.desired_effect,
                extra_resources=old.extra_resources,
                continued=True,
                status="in_progress" if old.status == "in_progress" else "planned",
                carried_from_measure_id=old.measure_id,
                created_at=now,
            )
        )
    await changed(
        session,
        context,
        action="carry_over",
        params={"count": len(set(body.measure_ids))},
        now=now,
    )
    return len(set(body.measure_ids))


async def complete(
    session: AsyncSession, *, plan_id: str, body: PlanComplete, person_id: str, now: datetime
) -> int:
    """Mark the plan complete: refused, changing nothing, while its checklist is not met;
    else an immutable version of the plan as it is now is stored. Returns its number."""
    context = await load(session, plan_id=plan_id, person_id=person_id, lock=True)
    require_edit(context)
    require_revision(stored=context.plan.revision, sent=body.revision, what="plan")
    missing = await checklist(session, plan=context.plan)
    if missing:
        raise ChecklistNotMet(
            "The plan cannot be marked complete yet: see what is missing.",
            problems=[{"code": code, "message": CHECKLIST_TEXT[code]} for code in missing],
            missing=missing,
        )
    plan = context.plan
    plan.version += 1
    plan.changed_since_version = False
    await changed(session, context, action="completed", params={"version": plan.version}, now=now)
    snapshot = await plan_view.view(session, context, language="nb")
    session.add(
        PlanVersion(
            plan_id=plan_id,
            version=plan.version,
            completed_by=person_id,
            completed_at=now,
            snapshot=snapshot.model_dump(mode="json", by_alias=True),
        )
    )
    return plan.version
