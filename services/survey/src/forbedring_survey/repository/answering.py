"""Invitations and answering: a person's invitations, marking one answered, and holding
the answers apart from it until release."""

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_survey.models import Invitation
from forbedring_survey.repository.sql import connection, json_text

_INVITATION_SELECT = (
    "SELECT i.id, i.period_id, i.unit_id, u.name, i.answered, p.questionnaire_version, "
    "p.name, p.status, p.closes_at FROM invitations i "
    "JOIN periods p ON p.id = i.period_id "
    "JOIN units u ON u.period_id = i.period_id AND u.unit_id = i.unit_id "
)


async def invitations_of(session: AsyncSession, *, employee_id: str) -> list[Invitation]:
    rows = await (await connection(session)).execute(
        text(_INVITATION_SELECT + "WHERE i.employee_id = :e ORDER BY p.opens_at DESC, u.position"),
        {"e": employee_id},
    )
    return [Invitation(*row) for row in rows]


async def find_invitation(
    session: AsyncSession, *, invitation_id: UUID, employee_id: str
) -> Invitation | None:
    row = (
        await (await connection(session)).execute(
            text(_INVITATION_SELECT + "WHERE i.id = :id AND i.employee_id = :e"),
            {"id": invitation_id, "e": employee_id},
        )
    ).first()
    return None if row is None else Invitation(*row)


async def mark_answered(session: AsyncSession, *, invitation_id: UUID, employee_id: str) -> bool:
    """Mark the invitation answered if it was not. Under concurrent submissions exactly
    one caller gets True: the others wait for its row lock, re-check `answered` and
    find it set."""
    row = (
        await (await connection(session)).execute(
            text(
                "UPDATE invitations SET answered = true WHERE id = :id AND employee_id = :e "
                "AND answered = false RETURNING true"
            ),
            {"id": invitation_id, "e": employee_id},
        )
    ).first()
    return row is not None


async def hold_response(
    session: AsyncSession,
    *,
    period_id: str,
    unit_id: str,
    questionnaire_version: str,
    answers: dict[str, Any],
) -> None:
    await (await connection(session)).execute(
        text(
            "INSERT INTO pending_responses (id, period_id, unit_id, questionnaire_version, "
            "answers) VALUES (:id, :p, :u, :v, CAST(:a AS jsonb))"
        ),
        {
            "id": uuid4(),
            "p": period_id,
            "u": unit_id,
            "v": questionnaire_version,
            "a": json_text(answers),
        },
    )


async def hold_background(
    session: AsyncSession, *, period_id: str, unit_id: str, answers: dict[str, Any]
) -> None:
    await (await connection(session)).execute(
        text(
            "INSERT INTO pending_background (id, period_id, unit_id, answers) "
            "VALUES (:id, :p, :u, CAST(:a AS jsonb))"
        ),
        {"id": uuid4(), "p": period_id, "u": unit_id, "a": json_text(answers)},
    )
