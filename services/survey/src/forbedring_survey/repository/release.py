"""Releasing held responses in groups: moving them into the released tables, and the
totals and background rows that come of them."""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import uuid4

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_survey.models import HeldResponse
from forbedring_survey.repository.sql import connection, json_text


async def units_with_pending(session: AsyncSession, *, period_id: str, at_least: int) -> list[str]:
    rows = await (await connection(session)).execute(
        text(
            "SELECT unit_id FROM pending_responses WHERE period_id = :p GROUP BY unit_id "
            "HAVING count(*) >= :n ORDER BY unit_id"
        ),
        {"p": period_id, "n": at_least},
    )
    return [row[0] for row in rows]


async def take_pending_responses(
    session: AsyncSession, *, period_id: str, unit_id: str
) -> list[HeldResponse]:
    rows = await (await connection(session)).execute(
        text(
            "DELETE FROM pending_responses WHERE period_id = :p AND unit_id = :u "
            "RETURNING id, unit_id, questionnaire_version, answers"
        ),
        {"p": period_id, "u": unit_id},
    )
    return [HeldResponse(*row) for row in rows]


async def take_pending_background(
    session: AsyncSession, *, period_id: str, unit_id: str
) -> list[dict[str, Any]]:
    rows = await (await connection(session)).execute(
        text(
            "DELETE FROM pending_background WHERE period_id = :p AND unit_id = :u RETURNING answers"
        ),
        {"p": period_id, "u": unit_id},
    )
    return [row[0] for row in rows]


async def store_released(
    session: AsyncSession,
    *,
    period_id: str,
    responses: Sequence[HeldResponse],
    released_on: date,
) -> None:
    """Insert in the order given (the caller shuffles)."""
    if not responses:
        return
    await (await connection(session)).execute(
        text(
            "INSERT INTO responses (id, period_id, unit_id, questionnaire_version, answers, "
            "released_on) SELECT i, CAST(:p AS text), u, v, a::jsonb, CAST(:d AS date) "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:units AS text[]), "
            "CAST(:versions AS text[]), CAST(:answers AS text[])) "
            "WITH ORDINALITY AS t(i, u, v, a, n) ORDER BY n"
        ),
        {
            "p": period_id,
            "d": released_on,
            "ids": [r.id for r in responses],
            "units": [r.unit_id for r in responses],
            "versions": [r.questionnaire_version for r in responses],
            "answers": [json_text(r.answers) for r in responses],
        },
    )


async def store_background(
    session: AsyncSession, *, period_id: str, unit_id: str, answers: Iterable[dict[str, Any]]
) -> None:
    """Insert in the order given (the caller shuffles), each under a new random id."""
    values = [json_text(a) for a in answers]
    if not values:
        return
    await (await connection(session)).execute(
        text(
            "INSERT INTO background_answers (id, period_id, unit_id, answers) "
            "SELECT i, CAST(:p AS text), CAST(:u AS text), a::jsonb "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:answers AS text[])) "
            "WITH ORDINALITY AS t(i, a, n) ORDER BY n"
        ),
        {"p": period_id, "u": unit_id, "ids": [uuid4() for _ in values], "answers": values},
    )


async def background_rows(
    session: AsyncSession, *, period_id: str
) -> list[tuple[str, dict[str, str]]]:
    """(unit, background answers) of every released response, in random-id order."""
    rows = await (await connection(session)).execute(
        text(
            "SELECT unit_id, answers FROM background_answers WHERE period_id = :p "
            "ORDER BY unit_id, id"
        ),
        {"p": period_id},
    )
    return [(row[0], row[1]) for row in rows]


async def rewrite_invitations(session: AsyncSession, *, period_id: str, unit_id: str) -> None:
    """Write every invitation row of the unit again, in random order, so that no
    transaction id (`xmin`) or physical position tells when any of them was answered."""
    await (await connection(session)).execute(
        text(
            "UPDATE invitations SET answered = invitations.answered FROM ("
            "SELECT id FROM invitations WHERE period_id = :p AND unit_id = :u "
            "ORDER BY random()) AS shuffled WHERE invitations.id = shuffled.id"
        ),
        {"p": period_id, "u": unit_id},
    )


async def released_totals(session: AsyncSession, *, period_id: str) -> dict[str, int]:
    rows = await (await connection(session)).execute(
        text("SELECT unit_id, count(*) FROM responses WHERE period_id = :p GROUP BY unit_id"),
        {"p": period_id},
    )
    return {row[0]: int(row[1]) for row in rows}
