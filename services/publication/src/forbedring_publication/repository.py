"""All SQL of the publication service."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.db import lock_or_create, replace_period_rows
from forbedring_publication.models import DirectoryUnit, Period, RoleRow, UnitResultRow


async def lock_period(session: AsyncSession, *, period_id: str) -> Period:
    """The period's row, created if new, locked until the transaction ends: the consumers
    of one period's events apply them one at a time, so completeness is decided once."""
    return await lock_or_create(
        session, Period, key={"period_id": period_id}, new={"complete": False}
    )


async def get_period(session: AsyncSession, *, period_id: str) -> Period | None:
    return (await session.exec(select(Period).where(Period.period_id == period_id))).first()


async def unit_result_values(session: AsyncSession, *, period_id: str) -> list[tuple[str, bytes]]:
    rows = await session.exec(
        select(UnitResultRow.unit_id, UnitResultRow.value).where(
            UnitResultRow.period_id == period_id
        )
    )
    return [(unit_id, bytes(value)) for unit_id, value in rows.all()]


async def get_unit_result(
    session: AsyncSession, *, period_id: str, unit_id: str
) -> UnitResultRow | None:
    return (
        await session.exec(
            select(UnitResultRow).where(
                UnitResultRow.period_id == period_id, UnitResultRow.unit_id == unit_id
            )
        )
    ).first()


async def unit_result_exists(session: AsyncSession, *, period_id: str, unit_id: str) -> bool:
    found = await session.exec(
        select(UnitResultRow.unit_id).where(
            UnitResultRow.period_id == period_id, UnitResultRow.unit_id == unit_id
        )
    )
    return found.first() is not None


async def list_unit_results(session: AsyncSession, *, period_id: str) -> Sequence[UnitResultRow]:
    return (
        await session.exec(
            select(UnitResultRow)
            .where(UnitResultRow.period_id == period_id)
            .order_by(col(UnitResultRow.unit_id))
        )
    ).all()


async def list_periods(session: AsyncSession) -> Sequence[Period]:
    """Every period the read model knows, the newest first."""
    found = await session.exec(
        select(Period).order_by(col(Period.finalized_at).desc().nulls_first())
    )
    return found.all()


async def previous_period(session: AsyncSession, *, before: datetime) -> Period | None:
    """The most recent period finalised before `before` (last year's, for comparison)."""
    found = await session.exec(
        select(Period)
        .where(col(Period.finalized_at) < before)
        .order_by(col(Period.finalized_at).desc())
        .limit(1)
    )
    return found.first()


async def unit_results_of(
    session: AsyncSession, *, period_id: str, unit_ids: Sequence[str]
) -> dict[str, bytes]:
    """The stored results of just these units (a report compares with a few others)."""
    if not unit_ids:
        return {}
    rows = await session.exec(
        select(UnitResultRow).where(
            UnitResultRow.period_id == period_id, col(UnitResultRow.unit_id).in_(unit_ids)
        )
    )
    return {row.unit_id: row.value for row in rows}


async def replace_directory(
    session: AsyncSession,
    *,
    period_id: str,
    units: Sequence[DirectoryUnit],
    roles: Sequence[RoleRow],
) -> None:
    await replace_period_rows(
        session, period_id=period_id, rows={DirectoryUnit: units, RoleRow: roles}
    )


async def directory_units(session: AsyncSession, *, period_id: str) -> dict[str, DirectoryUnit]:
    rows = await session.exec(select(DirectoryUnit).where(DirectoryUnit.period_id == period_id))
    return {unit.unit_id: unit for unit in rows.all()}


async def roles_of(session: AsyncSession, *, period_id: str, person_id: str) -> frozenset[str]:
    rows = await session.exec(
        select(RoleRow.role).where(RoleRow.period_id == period_id, RoleRow.person_id == person_id)
    )
    return frozenset(rows.all())


async def person_roles(session: AsyncSession, *, person_id: str) -> frozenset[str]:
    """Every role the person holds in any period's directory copy (for the navigation)."""
    rows = await session.exec(select(RoleRow.role).where(RoleRow.person_id == person_id))
    return frozenset(rows.all())


async def lock_due_periods(session: AsyncSession, *, now: datetime) -> Sequence[Period]:
    """Complete periods with a stage due, locked; rows another replica is releasing are
    skipped (it commits the release, after which they are no longer due)."""
    stage_1_due = and_(col(Period.stage_1_released_at).is_(None), col(Period.stage_1_at) <= now)
    stage_2_due = and_(
        col(Period.stage_1_released_at).is_not(None),
        col(Period.stage_2_released_at).is_(None),
        col(Period.stage_2_at) <= now,
    )
    return (
        await session.exec(
            select(Period)
            .where(col(Period.complete), or_(stage_1_due, stage_2_due))
            .order_by(col(Period.period_id))
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    ).all()
