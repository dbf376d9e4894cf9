"""Use cases fed by events, one per event, each under the period's row lock (so a
period's plans are opened exactly once, by whichever event completes what they need):
plans open for every unit when stage 1 of the results is released, every unit's results
have arrived and period-opened (with the plans' deadline) has been seen: the topics are
read in no order between them."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import opening, repository
from forbedring_actionplan.models import DirectoryUnit, Period, Person, UnitResultRow
from forbedring_chassis.db import count_unit_results, keep_unit_results
from forbedring_chassis.logging import get_logger
from forbedring_contracts.events import (
    DirectoryUpdated,
    PeriodOpened,
    PublishedUnitResults,
    ResultsFinalized,
    ResultsReleased,
    SuppressedUnitResults,
    Unit,
)

log = get_logger(__name__)


async def period_opened(session: AsyncSession, *, event: PeriodOpened, now: datetime) -> None:
    period = await repository.lock_period(session, period_id=event.period_id)
    period.organisation_id = event.organisation_id
    period.name = event.name
    period.plan_deadline = event.plan_deadline
    period.opens_at = event.opens_at
    period.questionnaire = event.questionnaire.model_dump(mode="json")
    session.add(period)
    if event.units and not await repository.has_units(session, period_id=event.period_id):
        # The frozen tree names the units even before the directory arrives.
        await repository.replace_units(
            session,
            period_id=event.period_id,
            units=[_unit(event.period_id, u) for u in event.units],
        )
    await _open_if_ready(session, period=period, now=now)


async def directory_updated(
    session: AsyncSession, *, event: DirectoryUpdated, now: datetime
) -> None:
    """The whole directory of the period replaces the previous one; a unit new to it gets
    its plan at once if the period's plans are open."""
    period = await repository.lock_period(session, period_id=event.period_id)
    people: dict[tuple[str, str, str], Person] = {
        (r.person_id, r.unit_id, r.role): Person(
            period_id=event.period_id,
            person_id=r.person_id,
            unit_id=r.unit_id,
            role=r.role,
            name=r.name,
        )
        for r in event.roles
    }
    for m in event.members:
        people.setdefault(
            (m.person_id, m.unit_id, "member"),
            Person(
                period_id=event.period_id,
                person_id=m.person_id,
                unit_id=m.unit_id,
                role="member",
                name=m.name,
            ),
        )
    await repository.replace_directory(
        session,
        period_id=event.period_id,
        units=[_unit(event.period_id, u) for u in event.units],
        people=list(people.values()),
    )
    if period.plans_opened:
        await opening.open_plans(session, period=period, now=now)
    else:
        await _open_if_ready(session, period=period, now=now)


async def unit_results(
    session: AsyncSession,
    *,
    event: PublishedUnitResults | SuppressedUnitResults,
    now: datetime,
) -> None:
    period = await repository.lock_period(session, period_id=event.period_id)
    kept = await keep_unit_results(
        session,
        UnitResultRow,
        event=event,
        settled=period.plans_opened,
        ignored="actionplan.results.ignored_after_opening",
    )
    if not kept:
        return
    await _open_if_ready(session, period=period, now=now)


async def results_finalized(
    session: AsyncSession, *, event: ResultsFinalized, now: datetime
) -> None:
    period = await repository.lock_period(session, period_id=event.period_id)
    period.unit_count = event.unit_count
    session.add(period)
    await _open_if_ready(session, period=period, now=now)


async def results_released(session: AsyncSession, *, event: ResultsReleased, now: datetime) -> None:
    period = await repository.lock_period(session, period_id=event.period_id)
    if event.stage == 1 and period.stage_1_released_at is None:
        period.stage_1_released_at = event.released_at
    if event.stage == 2:
        period.stage_1_released_at = period.stage_1_released_at or event.released_at
        period.stage_2_released_at = period.stage_2_released_at or event.released_at
    session.add(period)
    await _open_if_ready(session, period=period, now=now)


async def _open_if_ready(session: AsyncSession, *, period: Period, now: datetime) -> None:
    if period.plans_opened or period.stage_1_released_at is None or period.unit_count is None:
        return
    if period.opens_at is None:
        return  # period-opened not seen yet: it says the plans' deadline
    received = await count_unit_results(session, UnitResultRow, period_id=period.period_id)
    if received < period.unit_count:
        return
    if not await repository.has_units(session, period_id=period.period_id):
        return
    opened = await opening.open_plans(session, period=period, now=now)
    period.plans_opened = True
    session.add(period)
    log.info("actionplan.plans.opened", period_id=period.period_id, plans=opened)


def _unit(period_id: str, unit: Unit) -> DirectoryUnit:
    return DirectoryUnit(
        period_id=period_id,
        unit_id=unit.unit_id,
        parent_id=unit.parent_id,
        name=unit.name,
        level=unit.level,
    )
