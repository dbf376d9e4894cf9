"""What every plan use case starts from: the plan, its period, the unit and those above
it, and what the signed-in person may do with it; and what every change ends with: a
history entry, a new revision and a plan-updated event (through the outbox)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import repository
from forbedring_actionplan.domain import quality
from forbedring_actionplan.domain.access import Access, access
from forbedring_actionplan.errors import Forbidden, NotFound, StaleEdit
from forbedring_actionplan.models import DirectoryUnit, HistoryEntry, Period, Plan
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import PlanUpdated, Questionnaire

OSLO = ZoneInfo("Europe/Oslo")
SYSTEM = "system"
"""The person id history entries name for what the service did by itself."""


def today(now: datetime) -> date:
    """The day in the trust's time zone: deadlines are days there."""
    return now.astimezone(OSLO).date()


def released_stage(period: Period) -> int:
    if period.stage_2_released_at is not None:
        return 2
    return 1 if period.stage_1_released_at is not None else 0


def questionnaire_of(period: Period) -> Questionnaire | None:
    return Questionnaire.model_validate(period.questionnaire) if period.questionnaire else None


@dataclass
class PlanContext:
    plan: Plan
    period: Period
    chain: list[DirectoryUnit]
    """The plan's unit, then the units above it, nearest first."""
    access: Access
    person_id: str

    @property
    def unit(self) -> DirectoryUnit:
        return self.chain[0]

    @property
    def parent(self) -> DirectoryUnit | None:
        return self.chain[1] if len(self.chain) > 1 else None


async def load(
    session: AsyncSession, *, plan_id: str, person_id: str, lock: bool = False
) -> PlanContext:
    """The plan as `person_id` may see it; NotFound or Forbidden otherwise. `lock` holds
    the plan's row until the transaction ends (every change to a plan locks it first)."""
    plan = await repository.get_plan(session, plan_id=plan_id, lock=lock)
    if plan is None:
        raise NotFound(f"There is no plan {plan_id!r}.")
    return await _context(session, plan=plan, person_id=person_id)


async def load_for_unit(
    session: AsyncSession, *, period_id: str, unit_id: str, person_id: str
) -> PlanContext:
    plan = await repository.plan_of_unit(session, period_id=period_id, unit_id=unit_id)
    if plan is None:
        period = await repository.get_period(session, period_id=period_id)
        if period is None:
            raise NotFound(f"There is no period {period_id!r}.")
        raise NotFound(
            f"Unit {unit_id!r} has no plan in this period: plans open when the results are "
            "released to leaders."
        )
    return await _context(session, plan=plan, person_id=person_id)


async def _context(session: AsyncSession, *, plan: Plan, person_id: str) -> PlanContext:
    period = await repository.get_period(session, period_id=plan.period_id)
    assert period is not None
    chain = await repository.chain(session, period_id=plan.period_id, unit_id=plan.unit_id)
    if not chain:
        chain = [
            DirectoryUnit(
                period_id=plan.period_id, unit_id=plan.unit_id, name=plan.unit_id, level="?"
            )
        ]
    roles = await repository.roles_of(session, period_id=plan.period_id, person_id=person_id)
    parents = {u.unit_id: u.parent_id for u in chain}
    granted = access(
        plan.unit_id, roles=roles, parents=parents, released_stage=released_stage(period)
    )
    if not granted.read:
        raise Forbidden(
            "You may not read this plan: it is for the unit's leader and the leaders above, "
            "its representatives, its employees (once the results reach everyone) and HR."
        )
    return PlanContext(plan, period, chain, granted, person_id)


def require_edit(context: PlanContext) -> None:
    if not context.access.edit:
        raise Forbidden(
            "Only the unit's leader, or a leader of a unit above it, may change this plan."
        )


def require_comment(context: PlanContext) -> None:
    if not context.access.comment:
        raise Forbidden(
            "Only the unit's leaders and its safety and union representatives may comment."
        )


def require_revision(*, stored: int, sent: int, what: str) -> None:
    if stored != sent:
        raise StaleEdit(
            f"Someone else changed the {what} since you opened it (revision {sent}, now "
            f"{stored}). Nothing was changed: reload it and make your edit again.",
            revision=stored,
        )


async def changed(
    session: AsyncSession,
    context: PlanContext,
    *,
    action: str,
    params: Mapping[str, Any],
    now: datetime,
    measure_id: str | None = None,
) -> None:
    """End a change: history entry (a code and its parameters, `history.py`), next
    revision, plan-updated."""
    await record(
        session,
        plan=context.plan,
        person_id=context.person_id,
        action=action,
        params=params,
        now=now,
        measure_id=measure_id,
    )


async def record(
    session: AsyncSession,
    *,
    plan: Plan,
    person_id: str,
    action: str,
    params: Mapping[str, Any],
    now: datetime,
    measure_id: str | None = None,
) -> None:
    session.add(
        HistoryEntry(
            plan_id=plan.plan_id,
            at=now,
            person_id=person_id,
            action=action,
            params=dict(params),
            measure_id=measure_id,
        )
    )
    plan.revision += 1
    plan.updated_at = now
    if plan.version > 0 and action != "completed":
        plan.changed_since_version = True
    session.add(plan)
    await session.flush()
    await stage_plan_updated(session, plan=plan, now=now)


async def checklist(session: AsyncSession, *, plan: Plan) -> list[str]:
    rows = await repository.measure_rows(session, plan_ids=[plan.plan_id])
    discussed = await repository.staff_discussed(session, plan_ids=[plan.plan_id])
    refs = await repository.focus_refs(session, plan_ids=[plan.plan_id])
    return quality.missing(
        staff_discussed=plan.plan_id in discussed,
        measures=[
            quality.MeasureFacts(
                responsible=r.responsible,
                deadline=r.deadline is not None,
                desired_effect=r.desired_effect,
                linked_id=r.linked_id,
                status=r.status,
                escalated_away=r.escalated_away,
            )
            for r in rows
        ],
        focus_refs=refs.get(plan.plan_id, set()),
    )


async def stage_plan_updated(session: AsyncSession, *, plan: Plan, now: datetime) -> None:
    rows = await repository.measure_rows(session, plan_ids=[plan.plan_id])
    missing = await checklist(session, plan=plan)
    stage_event(
        session,
        PlanUpdated(
            plan_id=plan.plan_id,
            period_id=plan.period_id,
            unit_id=plan.unit_id,
            status=quality.status(version=plan.version, measure_statuses=[r.status for r in rows]),
            measure_count=len(rows),
            completed_measure_count=sum(r.status == "done" for r in rows),
            deadline=plan.deadline,
            updated_at=now,
            version=plan.version,
            desired_quality=not missing,
            measures_done_by_deadline=sum(
                quality.done_by_deadline(r.status, r.done_on, r.deadline) for r in rows
            ),
        ),
    )
