"""Use cases fed by events: build the read model, and decide once, under the period's
row lock, when a period's results are complete (results-finalized arrived, exactly
`unit_count` unit-results are stored and their checksum matches)."""

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.db import count_unit_results, keep_unit_results
from forbedring_chassis.logging import get_logger
from forbedring_contracts.events import (
    DirectoryUpdated,
    PeriodOpened,
    PublishedUnitResults,
    ResultsFinalized,
    SuppressedUnitResults,
    Unit,
    results_checksum,
)
from forbedring_publication import repository
from forbedring_publication.domain.release import initial_schedule
from forbedring_publication.models import DirectoryUnit, Period, RoleRow, UnitResultRow

log = get_logger(__name__)


async def period_opened(
    session: AsyncSession,
    *,
    event: PeriodOpened,
    default_stage_1_delay: timedelta,
    default_stage_2_delay: timedelta,
) -> None:
    period = await repository.lock_period(session, period_id=event.period_id)
    period.name = event.name
    period.stage_1_delay_s = event.stage_1_delay.total_seconds()
    period.stage_2_delay_s = event.stage_2_delay.total_seconds()
    period.questionnaire = event.questionnaire.model_dump(mode="json")
    if period.complete and not period.postponed:
        # The results arrived first (the topics are read in no order between them): the
        # schedule used the defaults until now; the period's own delays replace them.
        _schedule(
            period,
            default_stage_1_delay=default_stage_1_delay,
            default_stage_2_delay=default_stage_2_delay,
        )
    session.add(period)
    if event.units:
        # The frozen tree names the units even before the directory arrives.
        known = await repository.directory_units(session, period_id=event.period_id)
        if not known:
            await repository.replace_directory(
                session,
                period_id=event.period_id,
                units=[_unit(event.period_id, u) for u in event.units],
                roles=[],
            )


async def directory_updated(session: AsyncSession, *, event: DirectoryUpdated) -> None:
    """The whole directory of the period replaces the previous one."""
    await repository.lock_period(session, period_id=event.period_id)
    await repository.replace_directory(
        session,
        period_id=event.period_id,
        units=[_unit(event.period_id, u) for u in event.units],
        roles=[
            RoleRow(
                period_id=event.period_id, person_id=r.person_id, unit_id=r.unit_id, role=r.role
            )
            for r in {(r.person_id, r.unit_id, r.role): r for r in event.roles}.values()
        ],
    )


async def unit_results(
    session: AsyncSession,
    *,
    event: PublishedUnitResults | SuppressedUnitResults,
    default_stage_1_delay: timedelta,
    default_stage_2_delay: timedelta,
) -> None:
    period = await repository.lock_period(session, period_id=event.period_id)
    kept = await keep_unit_results(
        session,
        UnitResultRow,
        event=event,
        settled=period.complete,
        ignored="publication.results.ignored_after_final",
        published=event.published,
    )
    if not kept:
        return
    await _complete_if_ready(
        session,
        period=period,
        default_stage_1_delay=default_stage_1_delay,
        default_stage_2_delay=default_stage_2_delay,
    )


async def results_finalized(
    session: AsyncSession,
    *,
    event: ResultsFinalized,
    default_stage_1_delay: timedelta,
    default_stage_2_delay: timedelta,
) -> None:
    period = await repository.lock_period(session, period_id=event.period_id)
    if period.complete:
        return
    period.unit_count = event.unit_count
    period.checksum = event.checksum
    period.finalized_at = event.finalized_at
    session.add(period)
    await _complete_if_ready(
        session,
        period=period,
        default_stage_1_delay=default_stage_1_delay,
        default_stage_2_delay=default_stage_2_delay,
    )


async def _complete_if_ready(
    session: AsyncSession,
    *,
    period: Period,
    default_stage_1_delay: timedelta,
    default_stage_2_delay: timedelta,
) -> None:
    if period.unit_count is None or period.finalized_at is None:
        return
    received = await count_unit_results(session, UnitResultRow, period_id=period.period_id)
    if received != period.unit_count:
        return
    values = await repository.unit_result_values(session, period_id=period.period_id)
    if results_checksum(values) != period.checksum:
        log.error(
            "publication.results.checksum_mismatch",
            period_id=period.period_id,
            units=received,
        )
        return
    period.complete = True
    _schedule(
        period,
        default_stage_1_delay=default_stage_1_delay,
        default_stage_2_delay=default_stage_2_delay,
    )
    session.add(period)
    log.info(
        "publication.results.complete",
        period_id=period.period_id,
        units=received,
        stage_1_at=str(period.stage_1_at),
    )


def _schedule(
    period: Period, *, default_stage_1_delay: timedelta, default_stage_2_delay: timedelta
) -> None:
    """Set the times of the stages not released yet from the period's delays (or the
    defaults when period-opened has not been seen)."""
    assert period.finalized_at is not None
    stage_1_delay = (
        timedelta(seconds=period.stage_1_delay_s)
        if period.stage_1_delay_s is not None
        else default_stage_1_delay
    )
    stage_2_delay = (
        timedelta(seconds=period.stage_2_delay_s)
        if period.stage_2_delay_s is not None
        else default_stage_2_delay
    )
    stage_1_at, stage_2_at = initial_schedule(
        finalized_at=period.finalized_at, stage_1_delay=stage_1_delay, stage_2_delay=stage_2_delay
    )
    if period.stage_1_released_at is None:
        period.stage_1_at = stage_1_at
    elif period.stage_1_at is not None:
        stage_2_at = period.stage_1_at + stage_2_delay
    if period.stage_2_released_at is None:
        period.stage_2_at = stage_2_at


def _unit(period_id: str, unit: Unit) -> DirectoryUnit:
    return DirectoryUnit(period_id=period_id, **unit.model_dump())
