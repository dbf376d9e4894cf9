"""Open a plan for every unit of a period that has none, pre-filled with its suggested
focus areas (`domain/focus.py`): item ids only, never a figure."""

from datetime import date, datetime
from uuid import uuid4

from pydantic import TypeAdapter
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import repository
from forbedring_actionplan.context import SYSTEM, questionnaire_of, today
from forbedring_actionplan.domain import focus
from forbedring_actionplan.models import FocusArea, HistoryEntry, Period, Plan
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import PlanUpdated, UnitResults

_RESULTS: TypeAdapter[focus.Results] = TypeAdapter(UnitResults)


def default_deadline(now: datetime) -> date:
    """The next 30 June (the procedure's date) when the period did not say."""
    day = today(now)
    deadline = date(day.year, 6, 30)
    return deadline if deadline >= day else date(day.year + 1, 6, 30)


async def open_plans(session: AsyncSession, *, period: Period, now: datetime) -> int:
    units = await repository.units_of(session, period_id=period.period_id)
    existing = await repository.plan_units(session, period_id=period.period_id)
    missing = sorted(set(units) - existing)
    if not missing:
        return 0
    stored = await repository.unit_results(session, period_id=period.period_id)
    results = {unit: _RESULTS.validate_json(value) for unit, value in stored.items()}
    questionnaire = questionnaire_of(period)
    reverse = frozenset(
        i.item_id for i in (questionnaire.items if questionnaire else ()) if i.reverse_scored
    )
    factors = {i.item_id: i.factor_id for i in (questionnaire.items if questionnaire else ())}
    parents = {u.unit_id: u.parent_id for u in units.values()}
    deadline = period.plan_deadline or default_deadline(now)
    for unit_id in missing:
        suggestion = focus.suggest(
            unit_id, results=results, parents=parents, reverse_scored=reverse, factors=factors
        )
        plan = Plan(
            plan_id=str(uuid4()),
            period_id=period.period_id,
            unit_id=unit_id,
            deadline=deadline,
            focus_source=suggestion.source,
            focus_source_unit_id=suggestion.source_unit_id,
            opened_at=now,
            updated_at=now,
            revision=1,
        )
        session.add(plan)
        session.add_all(
            FocusArea(
                plan_id=plan.plan_id,
                ref_id=area.ref_id,
                kind=area.kind,
                factor_id=area.factor_id,
                position=position,
            )
            for position, area in enumerate(suggestion.areas)
        )
        session.add(
            HistoryEntry(
                plan_id=plan.plan_id,
                at=now,
                person_id=SYSTEM,
                action="opened",
                params={"count": len(suggestion.areas), "source": suggestion.source},
            )
        )
        # A new plan: nothing written yet, so its counts are known without asking.
        stage_event(
            session,
            PlanUpdated(
                plan_id=plan.plan_id,
                period_id=plan.period_id,
                unit_id=plan.unit_id,
                status="draft",
                measure_count=0,
                completed_measure_count=0,
                deadline=plan.deadline,
                updated_at=now,
            ),
        )
    await session.flush()
    return len(missing)
