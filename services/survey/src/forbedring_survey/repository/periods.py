"""Periods: the statements are built from the `Period` table model, so its columns are
named once (in `models.py`); rows come back as detached `Period`s, never tracked by the
session."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, insert, select, text, update
from sqlalchemy.engine import Row
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_survey.models import Period
from forbedring_survey.repository.sql import connection

_FIELDS: Sequence[str] = tuple(Period.model_fields)


def _select_periods() -> Select[Any]:
    """Every column of `periods`, each labelled with its field's name."""
    return select(*(getattr(Period, name).label(name) for name in _FIELDS))


def _period(row: Row[Any]) -> Period:
    return Period(**row._mapping)


async def insert_period(session: AsyncSession, *, period: Period) -> None:
    values = {name: getattr(period, name) for name in _FIELDS}
    await (await connection(session)).execute(insert(Period).values(values))


async def get_period(
    session: AsyncSession,
    *,
    period_id: str,
    lock: Literal["share", "update"] | None = None,
) -> Period | None:
    """The period; `lock="share"` while answering (blocks closing meanwhile),
    `lock="update"` to open, close or import."""
    statement = _select_periods().where(col(Period.id) == period_id)
    if lock is not None:
        statement = statement.with_for_update(read=lock == "share")
    row = (await (await connection(session)).execute(statement)).first()
    return None if row is None else _period(row)


async def list_periods(session: AsyncSession) -> list[Period]:
    statement = _select_periods().order_by(col(Period.opens_at).desc(), col(Period.id))
    return [_period(row) for row in await (await connection(session)).execute(statement)]


async def open_period_ids(session: AsyncSession) -> list[str]:
    statement = select(col(Period.id)).where(col(Period.status) == "open").order_by(col(Period.id))
    return [row[0] for row in await (await connection(session)).execute(statement)]


async def open_period_of(
    session: AsyncSession, *, organisation_id: str, excluding: str
) -> str | None:
    statement = select(col(Period.id)).where(
        col(Period.organisation_id) == organisation_id,
        col(Period.status) == "open",
        col(Period.id) != excluding,
    )
    row = (await (await connection(session)).execute(statement)).first()
    return None if row is None else str(row[0])


async def lock_due_periods(
    session: AsyncSession, *, status: Literal["scheduled", "open"], now: datetime
) -> list[Period]:
    """Periods due to open (`scheduled`, opens_at passed) or to close (`open`, closes_at
    passed), locked; rows another replica holds are skipped, so each is handled once."""
    due = col(Period.opens_at) if status == "scheduled" else col(Period.closes_at)
    statement = (
        _select_periods()
        .where(col(Period.status) == status, due <= now)
        .order_by(due, col(Period.id))
        .with_for_update(skip_locked=True)
    )
    return [_period(row) for row in await (await connection(session)).execute(statement)]


async def set_period_open(session: AsyncSession, *, period_id: str, at: datetime) -> None:
    await (await connection(session)).execute(
        update(Period).where(col(Period.id) == period_id).values(status="open", opened_at=at)
    )


async def set_period_closed(session: AsyncSession, *, period_id: str, at: datetime) -> None:
    await (await connection(session)).execute(
        update(Period).where(col(Period.id) == period_id).values(status="closed", closed_at=at)
    )


async def lock_release(session: AsyncSession, *, period_id: str, wait: bool) -> bool:
    """The period's release lock for this transaction: one releaser at a time, across
    replicas. Without `wait`, False when another transaction holds it."""
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    row = (
        await (await connection(session)).execute(
            text(f"SELECT {function}(hashtext('survey.release:' || :id))::text"),
            {"id": period_id},
        )
    ).one()
    return bool(row[0] != "false")
