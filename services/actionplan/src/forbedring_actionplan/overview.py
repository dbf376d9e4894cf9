"""Use cases that read across a period's plans: the indicators (HR and leaders), the
units without a plan (HR), a leader's roll-up of their sub-units, a person's own plans,
and the escalation inbox. Every plan's checklist is found from a few queries for the
whole period, whatever its size."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import plan_view, repository
from forbedring_actionplan.context import today
from forbedring_actionplan.domain import access as rules
from forbedring_actionplan.domain import indicators as shares
from forbedring_actionplan.domain import quality
from forbedring_actionplan.errors import Forbidden, NotFound
from forbedring_actionplan.models import DirectoryUnit, Period, Plan
from forbedring_actionplan.schemas import (
    Inbox,
    Indicators,
    MyPlans,
    PeriodRef,
    PersonRef,
    RollUp,
    RollUpRow,
    ShareRow,
    UnitRef,
    UnitsWithoutPlan,
    UnitWithoutPlan,
)
from forbedring_actionplan.targets import targets_of
from forbedring_chassis.web import Language


@dataclass(frozen=True)
class PlanFacts:
    plan: Plan
    unit: DirectoryUnit
    measures: list[repository.MeasureRow]
    missing: list[str]

    @property
    def has_plan(self) -> bool:
        """A unit "has a plan" once its plan holds a measure."""
        return any(m.status != "cancelled" for m in self.measures)

    @property
    def status(self) -> quality.Status:
        return quality.status(
            version=self.plan.version, measure_statuses=[m.status for m in self.measures]
        )

    def row(self) -> RollUpRow:
        return RollUpRow(
            unit=UnitRef(unit_id=self.unit.unit_id, name=self.unit.name),
            level=self.unit.level,
            plan_id=self.plan.plan_id,
            status=self.status,
            version=self.plan.version,
            measures=len(self.measures),
            done=sum(m.status == "done" for m in self.measures),
            desired_quality=not self.missing,
            missing=self.missing,
        )


async def _period(session: AsyncSession, period_id: str) -> Period:
    period = await repository.get_period(session, period_id=period_id)
    if period is None:
        raise NotFound(f"There is no period {period_id!r}.")
    return period


async def facts(
    session: AsyncSession, *, period_id: str
) -> tuple[dict[str, DirectoryUnit], list[PlanFacts]]:
    units = await repository.units_of(session, period_id=period_id)
    plans = [
        p for p in await repository.plans_of(session, period_id=period_id) if p.unit_id in units
    ]
    ids = [p.plan_id for p in plans]
    rows = await repository.measure_rows(session, plan_ids=ids)
    discussed = await repository.staff_discussed(session, plan_ids=ids)
    refs = await repository.focus_refs(session, plan_ids=ids)
    by_plan: dict[str, list[repository.MeasureRow]] = {p: [] for p in ids}
    for row in rows:
        by_plan[row.plan_id].append(row)
    found = []
    for plan in plans:
        measures = by_plan[plan.plan_id]
        missing = quality.missing(
            staff_discussed=plan.plan_id in discussed,
            measures=[
                quality.MeasureFacts(
                    responsible=m.responsible,
                    deadline=m.deadline is not None,
                    desired_effect=m.desired_effect,
                    linked_id=m.linked_id,
                    status=m.status,
                    escalated_away=m.escalated_away,
                )
                for m in measures
            ],
            focus_refs=refs.get(plan.plan_id, set()),
        )
        found.append(PlanFacts(plan, units[plan.unit_id], measures, missing))
    found.sort(key=lambda f: (f.unit.level, f.unit.name, f.unit.unit_id))
    return units, found


async def _roles(session: AsyncSession, period_id: str, person_id: str) -> set[tuple[str, str]]:
    return await repository.roles_of(session, period_id=period_id, person_id=person_id)


async def indicators(
    session: AsyncSession,
    *,
    period_id: str,
    person_id: str,
    now: datetime,
    targets: dict[str, float],
) -> Indicators:
    await _period(session, period_id)
    roles = await _roles(session, period_id, person_id)
    if not (rules.is_hr_admin(roles) or rules.led_units(roles)):
        raise Forbidden("The plan indicators are for HR admins and leaders.")
    targets = await targets_of(session, period_id=period_id, defaults=targets)  # HR's, if set
    _, found = await facts(session, period_id=period_id)
    day = today(now)
    rows = shares.indicators(
        [
            shares.UnitFacts(
                unit_id=f.unit.unit_id,
                level=f.unit.level,
                has_plan=f.has_plan,
                complete_of_quality=f.plan.version > 0 and not f.missing,
            )
            for f in found
        ],
        [
            shares.MeasureOutcome(
                level=f.unit.level, status=m.status, deadline=m.deadline, done_on=m.done_on
            )
            for f in found
            for m in f.measures
            if not m.escalated_away
        ],
        today=day,
        targets=targets,
    )
    return Indicators(
        period_id=period_id,
        as_of=day,
        rows=[ShareRow.model_validate(r, from_attributes=True) for r in rows],
    )


async def without_plan(
    session: AsyncSession, *, period_id: str, person_id: str
) -> UnitsWithoutPlan:
    await _period(session, period_id)
    if not rules.is_hr_admin(await _roles(session, period_id, person_id)):
        raise Forbidden("The list of units without a plan is for HR admins.")
    units, found = await facts(session, period_id=period_id)
    missing = [f for f in found if not f.has_plan]
    leaders = await repository.people_with_roles(
        session, period_id=period_id, unit_ids=[f.unit.unit_id for f in missing], roles=["leader"]
    )
    by_unit: dict[str, list[PersonRef]] = {}
    for p in leaders:
        by_unit.setdefault(p.unit_id, []).append(PersonRef(person_id=p.person_id, name=p.name))
    return UnitsWithoutPlan(
        period_id=period_id,
        units=[
            UnitWithoutPlan(
                unit=UnitRef(unit_id=f.unit.unit_id, name=f.unit.name),
                level=f.unit.level,
                parent=(
                    UnitRef(unit_id=f.unit.parent_id, name=units[f.unit.parent_id].name)
                    if f.unit.parent_id in units
                    else None
                ),
                leaders=by_unit.get(f.unit.unit_id, []),
            )
            for f in missing
        ],
    )


async def roll_up(session: AsyncSession, *, period_id: str, person_id: str) -> RollUp:
    """The plan status of every unit below the units the person leads (HR: every unit)."""
    await _period(session, period_id)
    roles = await _roles(session, period_id, person_id)
    units, found = await facts(session, period_id=period_id)
    if rules.is_hr_admin(roles):
        wanted = set(units)
    else:
        led = rules.led_units(roles)
        if not led:
            raise Forbidden("The roll-up of sub-units' plans is for leaders.")
        wanted = set(rules.descendants(led, {u.unit_id: u.parent_id for u in units.values()}))
    return RollUp(period_id=period_id, units=[f.row() for f in found if f.unit.unit_id in wanted])


async def my_plans(session: AsyncSession, *, person_id: str) -> list[MyPlans]:
    """Per period with plans, newest first: the plans the person may open from a list
    (their own units', and for a leader every unit below)."""
    found: list[MyPlans] = []
    for period in await repository.periods_with_plans(session):
        roles = await _roles(session, period.period_id, person_id)
        if not roles:
            continue
        units, plans = await facts(session, period_id=period.period_id)
        parents = {u.unit_id: u.parent_id for u in units.values()}
        stage = 2 if period.stage_2_released_at else 1
        readable = [
            f
            for f in plans
            if rules.access(f.unit.unit_id, roles=roles, parents=parents, released_stage=stage).read
        ]
        found.append(
            MyPlans(
                period=PeriodRef(
                    period_id=period.period_id, name=period.name, plan_deadline=period.plan_deadline
                ),
                plans=[f.row() for f in readable],
                hr_admin=rules.is_hr_admin(roles),
                leader=bool(rules.led_units(roles)),
            )
        )
    return found


async def inbox(
    session: AsyncSession, *, period_id: str, person_id: str, language: Language
) -> Inbox:
    """Escalations to plans the person may edit (to decide), and from them."""
    await _period(session, period_id)
    roles = await _roles(session, period_id, person_id)
    led = rules.led_units(roles)
    if not led:
        raise Forbidden("The escalation inbox is for leaders.")
    units = await repository.units_of(session, period_id=period_id)
    editable = led | set(rules.descendants(led, {u.unit_id: u.parent_id for u in units.values()}))
    plans = [
        p for p in await repository.plans_of(session, period_id=period_id) if p.unit_id in editable
    ]
    by_id = {p.plan_id: p for p in plans}
    incoming = await repository.escalations_to(session, plan_ids=sorted(by_id))
    outgoing = await repository.escalations_from(session, plan_ids=sorted(by_id))
    public = await plan_view.escalations_public(
        session,
        period_id=period_id,
        escalations=[*incoming, *outgoing],
        units=units,
        language=language,
    )
    return Inbox(
        period_id=period_id,
        incoming=[public[e.escalation_id] for e in incoming if e.status == "pending"],
        decided=[public[e.escalation_id] for e in incoming if e.status != "pending"],
        outgoing=[public[e.escalation_id] for e in outgoing],
    )
