"""SQL of what the service owns: plans, focus areas, dialogue, measures, escalations,
comments, history and versions."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import any_, bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan.models import (
    Comment,
    DialogueEntry,
    Escalation,
    FocusArea,
    HistoryEntry,
    Measure,
    Plan,
    PlanVersion,
)


def _any(ids: Sequence[str]) -> Any:
    """`= ANY(array)`: one parameter for a pass's ten thousand plans, where `IN` binds and
    compiles one each."""
    return any_(bindparam("ids", list(ids), type_=ARRAY(String)))


async def plan_units(session: AsyncSession, *, period_id: str) -> set[str]:
    rows = await session.exec(select(Plan.unit_id).where(Plan.period_id == period_id))
    return set(rows.all())


async def get_plan(session: AsyncSession, *, plan_id: str, lock: bool = False) -> Plan | None:
    statement = select(Plan).where(Plan.plan_id == plan_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def plan_of_unit(
    session: AsyncSession, *, period_id: str, unit_id: str, lock: bool = False
) -> Plan | None:
    statement = select(Plan).where(Plan.period_id == period_id, Plan.unit_id == unit_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def plans_of(session: AsyncSession, *, period_id: str) -> Sequence[Plan]:
    return (await session.exec(select(Plan).where(Plan.period_id == period_id))).all()


async def focus_areas(session: AsyncSession, *, plan_id: str) -> Sequence[FocusArea]:
    return (
        await session.exec(
            select(FocusArea)
            .where(FocusArea.plan_id == plan_id)
            .order_by(col(FocusArea.position), col(FocusArea.ref_id))
        )
    ).all()


async def dialogue(session: AsyncSession, *, plan_id: str) -> Sequence[DialogueEntry]:
    return (
        await session.exec(
            select(DialogueEntry)
            .where(DialogueEntry.plan_id == plan_id)
            .order_by(col(DialogueEntry.held_on), col(DialogueEntry.recorded_at))
        )
    ).all()


async def measures(session: AsyncSession, *, plan_id: str) -> Sequence[Measure]:
    return (
        await session.exec(
            select(Measure)
            .where(Measure.plan_id == plan_id)
            .order_by(col(Measure.position), col(Measure.created_at), col(Measure.measure_id))
        )
    ).all()


async def get_measure(
    session: AsyncSession, *, measure_id: str, lock: bool = False
) -> Measure | None:
    statement = select(Measure).where(Measure.measure_id == measure_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def measures_by_id(
    session: AsyncSession, *, measure_ids: Sequence[str]
) -> dict[str, Measure]:
    if not measure_ids:
        return {}
    rows = await session.exec(select(Measure).where(col(Measure.measure_id).in_(measure_ids)))
    return {m.measure_id: m for m in rows.all()}


async def carried_from(session: AsyncSession, *, plan_id: str) -> set[str]:
    rows = await session.exec(
        select(Measure.carried_from_measure_id).where(
            Measure.plan_id == plan_id, col(Measure.carried_from_measure_id).is_not(None)
        )
    )
    return {r for r in rows.all() if r is not None}


async def escalations_of(session: AsyncSession, *, plan_id: str) -> Sequence[Escalation]:
    """Escalations from this plan and to it, oldest first."""
    return (
        await session.exec(
            select(Escalation)
            .where((Escalation.from_plan_id == plan_id) | (Escalation.to_plan_id == plan_id))
            .order_by(col(Escalation.escalated_at))
        )
    ).all()


async def escalations_to(session: AsyncSession, *, plan_ids: Sequence[str]) -> Sequence[Escalation]:
    if not plan_ids:
        return []
    return (
        await session.exec(
            select(Escalation)
            .where(col(Escalation.to_plan_id).in_(plan_ids))
            .order_by(col(Escalation.escalated_at))
        )
    ).all()


async def escalations_from(
    session: AsyncSession, *, plan_ids: Sequence[str]
) -> Sequence[Escalation]:
    if not plan_ids:
        return []
    return (
        await session.exec(
            select(Escalation)
            .where(col(Escalation.from_plan_id).in_(plan_ids))
            .order_by(col(Escalation.escalated_at))
        )
    ).all()


async def get_escalation(
    session: AsyncSession, *, escalation_id: str, lock: bool = False
) -> Escalation | None:
    statement = select(Escalation).where(Escalation.escalation_id == escalation_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def pending_escalation_of(session: AsyncSession, *, measure_id: str) -> Escalation | None:
    return (
        await session.exec(
            select(Escalation).where(
                Escalation.measure_id == measure_id, Escalation.status == "pending"
            )
        )
    ).first()


async def comments(session: AsyncSession, *, plan_id: str) -> Sequence[Comment]:
    return (
        await session.exec(
            select(Comment).where(Comment.plan_id == plan_id).order_by(col(Comment.at))
        )
    ).all()


async def history(session: AsyncSession, *, plan_id: str) -> Sequence[HistoryEntry]:
    return (
        await session.exec(
            select(HistoryEntry)
            .where(HistoryEntry.plan_id == plan_id)
            .order_by(col(HistoryEntry.id).desc())
        )
    ).all()


async def versions(session: AsyncSession, *, plan_id: str) -> Sequence[PlanVersion]:
    return (
        await session.exec(
            select(PlanVersion)
            .where(PlanVersion.plan_id == plan_id)
            .order_by(col(PlanVersion.version))
        )
    ).all()


async def get_version(session: AsyncSession, *, plan_id: str, version: int) -> PlanVersion | None:
    return (
        await session.exec(
            select(PlanVersion).where(
                PlanVersion.plan_id == plan_id, PlanVersion.version == version
            )
        )
    ).first()


async def bump_revision(session: AsyncSession, *, plan: Plan) -> None:
    plan.revision += 1
    session.add(plan)


# --- indicators and roll-ups: one pass over a period --------------------------------------


@dataclass(frozen=True)
class MeasureRow:
    plan_id: str
    status: str
    deadline: date | None
    done_on: date | None
    responsible: bool
    desired_effect: bool
    linked_id: str | None
    escalated_away: bool


async def measure_rows(session: AsyncSession, *, plan_ids: Sequence[str]) -> list[MeasureRow]:
    if not plan_ids:
        return []
    rows = await session.exec(  # type: ignore[call-overload]
        sa_select(
            col(Measure.plan_id),
            col(Measure.status),
            col(Measure.deadline),
            col(Measure.done_on),
            col(Measure.responsible_person_id).is_not(None),
            col(Measure.desired_effect) != "",
            col(Measure.linked_id),
            col(Measure.escalated_to_measure_id).is_not(None),
        ).where(col(Measure.plan_id) == _any(plan_ids))
    )
    return [MeasureRow(*row) for row in rows.all()]


async def staff_discussed(session: AsyncSession, *, plan_ids: Sequence[str]) -> set[str]:
    if not plan_ids:
        return set()
    rows = await session.exec(
        select(DialogueEntry.plan_id)
        .where(col(DialogueEntry.plan_id) == _any(plan_ids), DialogueEntry.step == "staff")
        .distinct()
    )
    return set(rows.all())


async def focus_refs(session: AsyncSession, *, plan_ids: Sequence[str]) -> dict[str, set[str]]:
    """Per plan, the ids a measure may link to: focus items not dismissed and their factors."""
    if not plan_ids:
        return {}
    rows = await session.exec(
        select(FocusArea.plan_id, FocusArea.ref_id, FocusArea.factor_id).where(
            col(FocusArea.plan_id) == _any(plan_ids), FocusArea.decision != "dismissed"
        )
    )
    found: dict[str, set[str]] = {}
    for plan_id, ref_id, factor_id in rows.all():
        refs = found.setdefault(plan_id, set())
        refs.add(ref_id)
        if factor_id:
            refs.add(factor_id)
    return found


async def count_measures(session: AsyncSession, *, plan_id: str) -> int:
    found = await session.exec(
        select(func.count()).select_from(Measure).where(Measure.plan_id == plan_id)
    )
    return int(found.one())


async def set_escalated_to(session: AsyncSession, *, measure_id: str, to_measure_id: str) -> None:
    await session.exec(
        update(Measure)
        .where(col(Measure.measure_id) == measure_id)
        .values(escalated_to_measure_id=to_measure_id, revision=Measure.revision + 1)
    )


async def units_of_plans(session: AsyncSession, *, plan_ids: Sequence[str]) -> dict[str, str]:
    if not plan_ids:
        return {}
    rows = await session.exec(
        select(Plan.plan_id, Plan.unit_id).where(col(Plan.plan_id).in_(plan_ids))
    )
    return dict(rows.all())
