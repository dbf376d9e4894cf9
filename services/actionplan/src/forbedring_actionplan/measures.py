"""Use cases of one measure: add it to a plan, change it (optimistic concurrency: an edit
to a revision that is no longer the stored one is refused, changing nothing). Both check
the fields the directory and the questionnaire decide: the responsible person must be in
the period's directory, a deadline must not be in the past, a link must name a factor or
item of the questionnaire."""

from datetime import date, datetime
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import history, reminders, repository
from forbedring_actionplan.context import (
    PlanContext,
    changed,
    load,
    questionnaire_of,
    require_edit,
    require_revision,
    today,
)
from forbedring_actionplan.errors import Invalid, NotFound
from forbedring_actionplan.models import Measure
from forbedring_actionplan.schemas import MeasureCreate, MeasureUpdate

# The fields a history entry names when they change (`history.QUOTED` with their values).
_TRACKED = (
    "category",
    "linked_id",
    "title",
    "description",
    "responsible_person_id",
    "deadline",
    "desired_effect",
    "extra_resources",
    "continued",
    "status",
    "cancel_reason",
    "evaluation_done",
    "evaluation_observed",
    "evaluation_decision",
)


async def _check(
    session: AsyncSession,
    context: PlanContext,
    *,
    responsible_person_id: str | None,
    deadline: date | None,
    linked_id: str | None,
    now: datetime,
    check_deadline: bool,
) -> None:
    problems: list[dict[str, str]] = []
    if check_deadline and deadline is not None and deadline < today(now):
        problems.append(
            {
                "field": "deadline",
                "message": f"The deadline {deadline.isoformat()} is in the past: choose today "
                "or a later day.",
            }
        )
    if responsible_person_id is not None and not await repository.person_known(
        session, period_id=context.plan.period_id, person_id=responsible_person_id
    ):
        problems.append(
            {
                "field": "responsible_person_id",
                "message": f"{responsible_person_id!r} is not in this period's directory: "
                "choose someone of the unit.",
            }
        )
    questionnaire = questionnaire_of(context.period)
    if linked_id is not None and questionnaire is not None:
        known = {i.item_id for i in questionnaire.items} | {
            f.factor_id for f in questionnaire.factors
        }
        if linked_id not in known:
            problems.append(
                {
                    "field": "linked_id",
                    "message": f"{linked_id!r} is neither a factor nor an item of the "
                    "period's questionnaire.",
                }
            )
    if problems:
        raise Invalid(
            " ".join(p["message"] for p in problems) + " Nothing was changed.", problems=problems
        )


async def create(
    session: AsyncSession, *, plan_id: str, body: MeasureCreate, person_id: str, now: datetime
) -> Measure:
    context = await load(session, plan_id=plan_id, person_id=person_id, lock=True)
    require_edit(context)
    await _check(
        session,
        context,
        responsible_person_id=body.responsible_person_id,
        deadline=body.deadline,
        linked_id=body.linked_id,
        now=now,
        check_deadline=True,
    )
    measure = Measure(
        measure_id=str(uuid4()),
        plan_id=plan_id,
        position=await repository.count_measures(session, plan_id=plan_id),
        created_at=now,
        **body.model_dump(),
    )
    session.add(measure)
    if measure.deadline is not None:
        await reminders.arm(
            session,
            subject_id=measure.measure_id,
            subject="measure",
            deadline=measure.deadline,
            now=now,
        )
    await changed(
        session,
        context,
        action="measure_added",
        params={"title": measure.title},
        now=now,
        measure_id=measure.measure_id,
    )
    return measure


async def update(
    session: AsyncSession,
    *,
    plan_id: str,
    measure_id: str,
    body: MeasureUpdate,
    person_id: str,
    now: datetime,
) -> Measure:
    context = await load(session, plan_id=plan_id, person_id=person_id, lock=True)
    require_edit(context)
    measure = await repository.get_measure(session, measure_id=measure_id, lock=True)
    if measure is None or measure.plan_id != plan_id:
        raise NotFound(f"Plan {plan_id!r} has no measure {measure_id!r}.")
    require_revision(stored=measure.revision, sent=body.revision, what="measure")
    given = body.model_dump(exclude_unset=True, exclude={"revision"})
    # A field sent as null clears it only where clearing makes sense.
    for field in ("category", "title", "status", "continued"):
        if field in given and given[field] is None:
            raise Invalid(
                f"{field} cannot be emptied.", problems=[{"field": field, "message": "required"}]
            )
    if given.get("status") == "cancelled" and not (
        given.get("cancel_reason") or measure.cancel_reason
    ):
        raise Invalid(
            "Say why the measure is cancelled (cancel_reason). Nothing was changed.",
            problems=[{"field": "cancel_reason", "message": "required when cancelled"}],
        )
    await _check(
        session,
        context,
        responsible_person_id=given.get("responsible_person_id"),
        deadline=given.get("deadline"),
        linked_id=given.get("linked_id"),
        now=now,
        check_deadline="deadline" in given and given["deadline"] != measure.deadline,
    )
    changes: list[dict[str, object]] = []
    for field in _TRACKED:
        if field not in given or given[field] == getattr(measure, field):
            continue
        before = getattr(measure, field)
        setattr(measure, field, given[field] if given[field] is not None else _empty(field))
        if field in history.QUOTED:
            changes.append(
                {
                    "field": field,
                    "before": history.value(before),
                    "after": history.value(given[field]),
                }
            )
        else:
            changes.append({"field": field})
    if "status" in given:
        measure.done_on = today(now) if measure.status == "done" else None
    if not changes:
        return measure
    measure.revision += 1
    session.add(measure)
    if "deadline" in given and measure.deadline is not None:
        await reminders.arm(
            session,
            subject_id=measure.measure_id,
            subject="measure",
            deadline=measure.deadline,
            now=now,
        )
    await changed(
        session,
        context,
        action="measure_changed",
        params={"title": measure.title, "changes": changes},
        now=now,
        measure_id=measure.measure_id,
    )
    return measure


def _empty(field: str) -> object:
    return (
        None
        if field
        in {
            "linked_id",
            "responsible_person_id",
            "deadline",
            "cancel_reason",
            "evaluation_decision",
        }
        else ""
    )
