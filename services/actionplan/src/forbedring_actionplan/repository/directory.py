"""SQL of the service's copy of what others own: periods, the directory, unit results."""

from collections.abc import Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan.models import DirectoryUnit, Period, Person, UnitResultRow
from forbedring_chassis.db import lock_or_create, replace_period_rows


async def lock_period(session: AsyncSession, *, period_id: str) -> Period:
    """The period's row, created if new, locked until the transaction ends: one period's
    events are applied one at a time, so its plans are opened once."""
    return await lock_or_create(session, Period, key={"period_id": period_id})


async def get_period(session: AsyncSession, *, period_id: str) -> Period | None:
    return (await session.exec(select(Period).where(Period.period_id == period_id))).first()


async def previous_period(session: AsyncSession, *, period: Period) -> Period | None:
    """The organisation's period that opened last before `period` (last year's plans
    carry over within one trust)."""
    if period.opens_at is None:
        return None
    return (
        await session.exec(
            select(Period)
            .where(
                col(Period.organisation_id) == period.organisation_id,
                col(Period.opens_at) < period.opens_at,
                col(Period.plans_opened),
            )
            .order_by(col(Period.opens_at).desc())
            .limit(1)
        )
    ).first()


async def periods_with_plans(session: AsyncSession) -> Sequence[Period]:
    return (
        await session.exec(
            select(Period).where(col(Period.plans_opened)).order_by(col(Period.opens_at).desc())
        )
    ).all()


async def replace_directory(
    session: AsyncSession,
    *,
    period_id: str,
    units: Sequence[DirectoryUnit],
    people: Sequence[Person],
) -> None:
    await replace_period_rows(
        session, period_id=period_id, rows={DirectoryUnit: units, Person: people}
    )
    await _touch_period(session, period_id)


async def replace_units(
    session: AsyncSession, *, period_id: str, units: Sequence[DirectoryUnit]
) -> None:
    await replace_period_rows(session, period_id=period_id, rows={DirectoryUnit: units})
    await _touch_period(session, period_id)


async def _touch_period(session: AsyncSession, period_id: str) -> None:
    """A new version of the period's row: cached plan views name the directory, and
    their key has the row's version (`view_cache`)."""
    await session.exec(  # type: ignore[call-overload]
        text("UPDATE actionplan_periods SET period_id = period_id WHERE period_id = :p").bindparams(
            p=period_id
        )
    )


async def units_of(session: AsyncSession, *, period_id: str) -> dict[str, DirectoryUnit]:
    rows = await session.exec(select(DirectoryUnit).where(DirectoryUnit.period_id == period_id))
    return {unit.unit_id: unit for unit in rows.all()}


async def has_units(session: AsyncSession, *, period_id: str) -> bool:
    found = await session.exec(
        select(DirectoryUnit.unit_id).where(DirectoryUnit.period_id == period_id).limit(1)
    )
    return found.first() is not None


_CHAIN = text(
    """
    WITH RECURSIVE chain(unit_id, parent_id, name, level, depth) AS (
        SELECT unit_id, parent_id, name, level, 0 FROM actionplan_units
         WHERE period_id = :period_id AND unit_id = :unit_id
        UNION ALL
        SELECT u.unit_id, u.parent_id, u.name, u.level, c.depth + 1
          FROM actionplan_units u JOIN chain c ON u.unit_id = c.parent_id
         WHERE u.period_id = :period_id AND c.depth < 64
    )
    SELECT unit_id, parent_id, name, level FROM chain ORDER BY depth
    """
)


async def chain(session: AsyncSession, *, period_id: str, unit_id: str) -> list[DirectoryUnit]:
    """The unit, then every unit above it, nearest first (empty if unknown)."""
    rows = await session.exec(_CHAIN.bindparams(period_id=period_id, unit_id=unit_id))  # type: ignore[call-overload]
    return [
        DirectoryUnit(period_id=period_id, unit_id=r[0], parent_id=r[1], name=r[2], level=r[3])
        for r in rows.all()
    ]


async def children_of(session: AsyncSession, *, period_id: str, unit_id: str) -> list[str]:
    rows = await session.exec(
        select(DirectoryUnit.unit_id).where(
            DirectoryUnit.period_id == period_id, DirectoryUnit.parent_id == unit_id
        )
    )
    return sorted(rows.all())


async def roles_of(
    session: AsyncSession, *, period_id: str, person_id: str
) -> set[tuple[str, str]]:
    rows = await session.exec(
        select(Person.unit_id, Person.role).where(
            Person.period_id == period_id, Person.person_id == person_id
        )
    )
    return {(unit, role) for unit, role in rows.all()}


async def person_known(session: AsyncSession, *, period_id: str, person_id: str) -> bool:
    found = await session.exec(
        select(Person.person_id)
        .where(Person.period_id == period_id, Person.person_id == person_id)
        .limit(1)
    )
    return found.first() is not None


async def names_of(
    session: AsyncSession, *, period_id: str, person_ids: Iterable[str]
) -> dict[str, str]:
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    rows = await session.exec(
        select(Person.person_id, Person.name).where(
            Person.period_id == period_id, col(Person.person_id).in_(wanted)
        )
    )
    return dict(rows.all())


async def people_with_roles(
    session: AsyncSession, *, period_id: str, unit_ids: Sequence[str], roles: Sequence[str]
) -> list[Person]:
    if not unit_ids:
        return []
    rows = await session.exec(
        select(Person)
        .where(
            Person.period_id == period_id,
            col(Person.unit_id).in_(unit_ids),
            col(Person.role).in_(roles),
        )
        .order_by(col(Person.name), col(Person.person_id))
    )
    return list(rows.all())


async def people_of_unit(session: AsyncSession, *, period_id: str, unit_id: str) -> list[Person]:
    """Everyone of the unit who can be made responsible for a measure (roles and members)."""
    rows = await session.exec(
        select(Person)
        .where(Person.period_id == period_id, Person.unit_id == unit_id)
        .order_by(col(Person.name), col(Person.person_id))
    )
    unique: dict[str, Person] = {}
    for person in rows.all():
        unique.setdefault(person.person_id, person)
    return list(unique.values())


async def save_unit_result(
    session: AsyncSession, *, period_id: str, unit_id: str, value: bytes
) -> None:
    statement = pg_insert(UnitResultRow).values(period_id=period_id, unit_id=unit_id, value=value)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["period_id", "unit_id"], set_={"value": statement.excluded.value}
        )
    )


async def unit_results(session: AsyncSession, *, period_id: str) -> dict[str, bytes]:
    rows = await session.exec(
        select(UnitResultRow.unit_id, UnitResultRow.value).where(
            UnitResultRow.period_id == period_id
        )
    )
    return {unit: bytes(value) for unit, value in rows.all()}
