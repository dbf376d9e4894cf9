"""Survey use cases. No commit and no publish here: the caller's unit of work does both."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import ResponseSubmitted
from forbedring_survey.models import Response
from forbedring_survey.schemas import ResponseCreate


async def submit_response(
    session: AsyncSession, *, response: ResponseCreate, topic_prefix: str
) -> uuid.UUID:
    # A random id: nothing in it orders or dates the response.
    response_id = uuid.uuid4()
    session.add(
        Response(
            id=response_id,
            period_id=response.period_id,
            unit_id=response.unit_id,
            questionnaire_version=response.questionnaire_version,
            answers=response.answers,
        )
    )
    stage_event(
        session,
        ResponseSubmitted(
            response_id=response_id,
            period_id=response.period_id,
            unit_id=response.unit_id,
            questionnaire_version=response.questionnaire_version,
            answers=response.answers,
        ),
        topic_prefix=topic_prefix,
    )
    return response_id
