"""All SQL of the notification service: the period copy, the ledger, subscriptions."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.db import lock_or_create
from forbedring_notification.domain.participation import UnitCounts
from forbedring_notification.domain.recipients import Directory, Recipient, UnitInfo
from forbedring_notification.models import (
    Delivery,
    Member,
    Period,
    Person,
    RoleRow,
    Subscription,
    Unit,
)

# --- periods and their directory -----------------------------------------------------------


async def lock_period(session: AsyncSession, *, period_id: str) -> Period:
    """The period's row, created if new, locked until the transaction ends: one period's
    facts are applied one at a time, whichever replica reads them."""
    return await lock_or_create(session, Period, key={"period_id": period_id})


async def upsert_units(
    session: AsyncSession, *, period_id: str, units: Sequence[Mapping[str, Any]], eligible: bool
) -> None:
    """Insert or update the tree's units (`eligible`: the rows carry eligible counts)."""
    if not units:
        return
    rows = [{"period_id": period_id, **unit} for unit in units]
    statement = pg_insert(Unit).values(rows)
    columns = ["parent_id", "name", "level", *(["eligible"] if eligible else [])]
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["period_id", "unit_id"],
            set_={name: statement.excluded[name] for name in columns},
        )
    )


async def replace_people(
    session: AsyncSession,
    *,
    period_id: str,
    people: Sequence[Mapping[str, Any]],
    roles: Sequence[Mapping[str, Any]],
    members: Sequence[Mapping[str, Any]],
) -> None:
    """The directory's people, roles and members replace the previous ones."""
    for model in (Person, RoleRow, Member):
        await session.exec(delete(model).where(col(model.period_id) == period_id))
    for model, rows in ((Person, people), (RoleRow, roles), (Member, members)):
        if rows:
            await (await session.connection()).execute(
                pg_insert(model).on_conflict_do_nothing(),
                [{"period_id": period_id, **row} for row in rows],
            )


async def set_participation(
    session: AsyncSession, *, period_id: str, unit_id: str, respondents: int, eligible: int
) -> None:
    await session.exec(
        update(Unit)
        .where(col(Unit.period_id) == period_id, col(Unit.unit_id) == unit_id)
        .values(respondents=respondents, eligible=eligible)
    )


async def set_final_totals(
    session: AsyncSession, *, period_id: str, totals: Mapping[str, int]
) -> None:
    if not totals:
        return
    await session.exec(
        text(
            """
            UPDATE notification_units AS u SET respondents = t.respondents
            FROM unnest(CAST(:ids AS varchar[]), CAST(:counts AS int[])) AS t(unit_id, respondents)
            WHERE u.period_id = :period_id AND u.unit_id = t.unit_id
            """
        ),  # type: ignore[call-overload]
        params={"period_id": period_id, "ids": list(totals), "counts": list(totals.values())},
    )


async def directory(session: AsyncSession, *, period_id: str) -> Directory:
    units = (await session.exec(select(Unit).where(Unit.period_id == period_id))).all()
    people = (await session.exec(select(Person).where(Person.period_id == period_id))).all()
    roles = (await session.exec(select(RoleRow).where(RoleRow.period_id == period_id))).all()
    members = (await session.exec(select(Member).where(Member.period_id == period_id))).all()
    return Directory(
        units={u.unit_id: UnitInfo(u.unit_id, u.parent_id, u.name) for u in units},
        people={p.person_id: Recipient(p.person_id, p.name, p.email, p.language) for p in people},
        roles=[(r.unit_id, r.person_id, r.role) for r in roles],
        members=[(m.unit_id, m.person_id) for m in members],
    )


async def unit_counts(session: AsyncSession, *, period_id: str) -> dict[str, UnitCounts]:
    units = (await session.exec(select(Unit).where(Unit.period_id == period_id))).all()
    return {
        u.unit_id: UnitCounts(u.unit_id, u.parent_id, u.name, u.eligible, u.respondents)
        for u in units
    }


async def people_anywhere(
    session: AsyncSession, *, period_id: str, person_ids: Iterable[str]
) -> dict[str, Recipient]:
    """How to reach these people: from the period's directory, else the latest other
    directory that names them."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    rows = (await session.exec(select(Person).where(col(Person.person_id).in_(wanted)))).all()
    found: dict[str, Recipient] = {}
    for row in sorted(rows, key=lambda p: (p.period_id == period_id, p.period_id)):
        found[row.person_id] = Recipient(row.person_id, row.name, row.email, row.language)
    return found


async def open_periods(session: AsyncSession, *, now: datetime) -> Sequence[Period]:
    """Periods opened and not closed, with a directory: the scheduler's work."""
    return (
        await session.exec(
            select(Period).where(
                col(Period.opens_at).is_not(None),
                col(Period.opens_at) <= now,
                col(Period.closed_at).is_(None),
                col(Period.has_directory).is_(True),
            )
        )
    ).all()


async def is_hr_admin(session: AsyncSession, *, person_id: str) -> bool:
    found = await session.exec(
        select(RoleRow.person_id)
        .where(RoleRow.person_id == person_id, RoleRow.role == "hr_admin")
        .limit(1)
    )
    return found.first() is not None


# --- the ledger ------------------------------------------------------------------------------


async def add_deliveries(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """Write ledger rows; those whose key is already there are left as they are. Returns
    how many were new."""
    if not rows:
        return 0
    result = await (await session.connection()).execute(
        pg_insert(Delivery)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(Delivery.id)),
        list(rows),
    )
    return len(result.all())


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    kind: str
    person_id: str
    email: str
    language: str
    context: dict[str, Any]
    attempts: int


async def claim(
    session: AsyncSession, *, now: datetime, until: datetime, limit: int
) -> list[Claimed]:
    """Up to `limit` due pending rows, now 'sending' until `until` (the lease)."""
    result = await session.exec(
        text(
            """
            UPDATE notification_deliveries d
            SET status = 'sending', claimed_until = :until, attempts = d.attempts + 1
            WHERE d.id IN (
                SELECT id FROM notification_deliveries
                WHERE status = 'pending' AND next_attempt_at <= :now
                ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
            )
            RETURNING d.id, d.key, d.kind, d.person_id, d.email, d.language,
                      d.context, d.attempts
            """
        ),  # type: ignore[call-overload]
        params={"now": now, "until": until, "limit": limit},
    )
    return sorted((Claimed(*row) for row in result.all()), key=lambda c: c.id)


async def mark_sent(session: AsyncSession, *, sent: Mapping[int, str], now: datetime) -> None:
    """`sent`: row id to the subject it was sent with."""
    if not sent:
        return
    await session.exec(
        text(
            """
            UPDATE notification_deliveries AS d
            SET status = 'sent', sent_at = :now, subject = s.subject, claimed_until = NULL,
                last_error = NULL
            FROM unnest(CAST(:ids AS bigint[]), CAST(:subjects AS varchar[])) AS s(id, subject)
            WHERE d.id = s.id AND d.status = 'sending'
            """
        ),  # type: ignore[call-overload]
        params={"now": now, "ids": list(sent), "subjects": list(sent.values())},
    )


async def mark_retry(session: AsyncSession, *, delivery_id: int, error: str, at: datetime) -> None:
    await session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status) == "sending")
        .values(status="pending", next_attempt_at=at, last_error=error, claimed_until=None)
    )


async def mark_failed(session: AsyncSession, *, delivery_id: int, error: str) -> None:
    await session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status).in_(["sending", "pending"]))
        .values(status="failed", last_error=error, claimed_until=None)
    )


async def mark_possibly_sent(session: AsyncSession, *, now: datetime) -> int:
    """Rows still 'sending' after their lease: the relay that claimed them stopped between
    sending and recording. They may or may not have gone out; they are not sent again
    unless someone resends them."""
    result = await session.exec(
        text(
            """
            UPDATE notification_deliveries
            SET status = 'possibly_sent', claimed_until = NULL,
                last_error = 'the service stopped between sending and recording this email'
            WHERE status = 'sending' AND claimed_until < :now
            RETURNING id
            """
        ),  # type: ignore[call-overload]
        params={"now": now},
    )
    return len(result.all())


async def deliveries(
    session: AsyncSession,
    *,
    period_id: str | None,
    kind: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[Delivery]]:
    conditions = [
        condition
        for value, condition in (
            (period_id, col(Delivery.period_id) == period_id),
            (kind, col(Delivery.kind) == kind),
            (status, col(Delivery.status) == status),
        )
        if value is not None
    ]
    total = (
        await session.exec(select(func.count()).select_from(Delivery).where(*conditions))
    ).one()
    rows = (
        await session.exec(
            select(Delivery)
            .where(*conditions)
            .order_by(col(Delivery.id).desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return int(total), rows


async def status_counts(session: AsyncSession) -> dict[str, int]:
    rows = (
        await session.exec(select(Delivery.status, func.count()).group_by(col(Delivery.status)))
    ).all()
    return {status: int(count) for status, count in rows}


async def lock_delivery(session: AsyncSession, *, delivery_id: int) -> Delivery | None:
    return (
        await session.exec(
            select(Delivery).where(col(Delivery.id) == delivery_id).with_for_update()
        )
    ).first()


# --- digest subscriptions ---------------------------------------------------------------


async def ensure_tokens(
    session: AsyncSession, *, tokens: Mapping[str, str]
) -> dict[str, Subscription]:
    """The subscriptions of these people, created with the given new tokens where missing."""
    if not tokens:
        return {}
    await (await session.connection()).execute(
        pg_insert(Subscription).on_conflict_do_nothing(index_elements=["person_id"]),
        [
            {"person_id": person, "token": token, "digests": True}
            for person, token in tokens.items()
        ],
    )
    rows = (
        await session.exec(
            select(Subscription).where(col(Subscription.person_id).in_(list(tokens)))
        )
    ).all()
    return {row.person_id: row for row in rows}


async def subscription_by_token(session: AsyncSession, *, token: str) -> Subscription | None:
    return (await session.exec(select(Subscription).where(Subscription.token == token))).first()
