"""Answering: a signed-in person's invitations, and submitting answers for one of them.

Nothing here logs, traces or returns anything that ties the person to the response; it
is held apart until it leaves in a group (`release.py`; the rules are in
`docs/anonymity.md`)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_survey import repository
from forbedring_survey.domain.answers import validate_answers
from forbedring_survey.domain.questionnaire import load_questionnaire
from forbedring_survey.errors import AlreadyAnswered, InvalidAnswers, NotFound, PeriodNotOpen
from forbedring_survey.models import Invitation


async def open_invitations(session: AsyncSession, *, employee_id: str) -> list[Invitation]:
    """The person's invitations in open periods, one per unit they are assigned to."""
    return [
        invitation
        for invitation in await repository.invitations_of(session, employee_id=employee_id)
        if invitation.period_status == "open"
    ]


@dataclass(frozen=True)
class Me:
    employee_id: str
    name: str | None
    language: str | None
    roles: list[tuple[str, str]]


async def me(session: AsyncSession, *, employee_id: str, organisation_id: str) -> Me:
    """Who the signed-in person is in the directory, with their roles (never taken from
    the token)."""
    entry = await repository.directory_entry(
        session, employee_id=employee_id, organisation_id=organisation_id
    )
    if entry is None:
        return Me(employee_id=employee_id, name=None, language=None, roles=[])
    _, name, language, roles = entry
    return Me(employee_id=employee_id, name=name, language=language, roles=roles)


async def submit(
    session: AsyncSession,
    *,
    employee_id: str,
    invitation_id: UUID,
    answers: Mapping[str, Any],
    background: Mapping[str, Any],
) -> None:
    """Validate and hold one response for the invitation; exactly one ever per invitation.

    Raises `InvalidAnswers` (each faulty question, nothing stored), `AlreadyAnswered`,
    `PeriodNotOpen` or `NotFound` (not the person's invitation)."""
    invitation = await repository.find_invitation(
        session, invitation_id=invitation_id, employee_id=employee_id
    )
    if invitation is None:
        raise NotFound("You have no such invitation.")
    questionnaire = load_questionnaire(invitation.questionnaire_version)
    problems = validate_answers(questionnaire, answers, background)
    if problems:
        raise InvalidAnswers(
            f"{len(problems)} answer(s) need attention; nothing was stored.",
            problems=[
                {
                    "part": p.part,
                    "item_id": p.item_id,
                    "code": p.code.value,
                    "message": p.message("en"),
                }
                for p in problems
            ],
        )
    # Shares the period row with other answers; closing waits until this commits.
    period = await repository.get_period(session, period_id=invitation.period_id, lock="share")
    if period is None or period.status != "open":
        raise PeriodNotOpen("This survey is not open for answers.")
    if not await repository.mark_answered(
        session, invitation_id=invitation_id, employee_id=employee_id
    ):
        raise AlreadyAnswered(
            "This survey has already been answered for this unit; a survey can be answered "
            "only once."
        )
    await repository.hold_response(
        session,
        period_id=period.id,
        unit_id=invitation.unit_id,
        questionnaire_version=period.questionnaire_version,
        answers=dict(answers),
    )
    if background:
        await repository.hold_background(
            session, period_id=period.id, unit_id=invitation.unit_id, answers=dict(background)
        )
