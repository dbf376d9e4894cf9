"""Thin handlers: the chassis has decoded the event and opened the transaction."""

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation import repository
from forbedring_chassis.runtime import Consumes
from forbedring_contracts import topics
from forbedring_contracts.events import ResponseSubmitted


async def on_response_submitted(session: AsyncSession, event: ResponseSubmitted) -> None:
    await repository.add_respondent(session, period_id=event.period_id, unit_id=event.unit_id)


CONSUMES = [Consumes(topics.RESPONSE_SUBMITTED, on_response_submitted)]
