"""Participation: invitations answered per unit, and the counts last sent."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_survey.models import UnitCount
from forbedring_survey.repository.sql import connection


async def participation_counts(session: AsyncSession, *, period_id: str) -> list[UnitCount]:
    """Per unit, for the unit itself: invitations answered and invitations."""
    rows = await (await connection(session)).execute(
        text(
            "SELECT unit_id, count(*) FILTER (WHERE answered), count(*) FROM invitations "
            "WHERE period_id = :p GROUP BY unit_id"
        ),
        {"p": period_id},
    )
    return [UnitCount(row[0], int(row[1]), int(row[2])) for row in rows]


async def participation_sent(
    session: AsyncSession, *, period_id: str
) -> dict[str, tuple[int, datetime]]:
    rows = await (await connection(session)).execute(
        text("SELECT unit_id, respondents, sent_at FROM participation_sent WHERE period_id = :p"),
        {"p": period_id},
    )
    return {row[0]: (int(row[1]), row[2]) for row in rows}


async def record_participation_sent(
    session: AsyncSession, *, period_id: str, counts: Sequence[UnitCount], at: datetime
) -> None:
    if not counts:
        return
    await (await connection(session)).execute(
        text(
            "INSERT INTO participation_sent (period_id, unit_id, respondents, sent_at) "
            "VALUES (:p, :u, :n, :at) ON CONFLICT (period_id, unit_id) DO UPDATE "
            "SET respondents = EXCLUDED.respondents, sent_at = EXCLUDED.sent_at"
        ),
        [{"p": period_id, "u": c.unit_id, "n": c.respondents, "at": at} for c in counts],
    )
