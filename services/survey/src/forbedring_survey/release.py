"""Releasing responses: who answered must never be linkable to what was answered.

A unit's held responses leave as one shuffled group of at least k (at close, whatever is
left): moved into the released tables, their events staged in shuffled order, the held
rows deleted and every invitation row of the unit rewritten in random order. The rules,
why each is needed, and what remains knowingly are in `docs/anonymity.md`.
"""

import random
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.logging import get_logger
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import ResponseSubmitted
from forbedring_survey import repository
from forbedring_survey.models import Period

log = get_logger(__name__)
_shuffle = random.SystemRandom().shuffle


async def release_unit(session: AsyncSession, *, period: Period, unit_id: str, today: date) -> int:
    """Release every held response of the unit as one shuffled group. The caller holds
    the period's release lock."""
    held = await repository.take_pending_responses(session, period_id=period.id, unit_id=unit_id)
    if not held:
        return 0
    _shuffle(held)
    await repository.store_released(session, period_id=period.id, responses=held, released_on=today)
    for response in held:
        stage_event(
            session,
            ResponseSubmitted(
                response_id=response.id,
                period_id=period.id,
                unit_id=response.unit_id,
                questionnaire_version=response.questionnaire_version,
                answers=response.answers,
            ),
        )
    background = await repository.take_pending_background(
        session, period_id=period.id, unit_id=unit_id
    )
    _shuffle(background)
    await repository.store_background(
        session, period_id=period.id, unit_id=unit_id, answers=background
    )
    await repository.rewrite_invitations(session, period_id=period.id, unit_id=unit_id)
    log.info("survey.responses.released", period_id=period.id, unit_id=unit_id, count=len(held))
    return len(held)


async def release_ready(session: AsyncSession, *, period: Period, today: date) -> int:
    """Release every unit holding at least k responses. Skips (returns 0) when another
    replica is releasing this period right now."""
    if not await repository.lock_release(session, period_id=period.id, wait=False):
        return 0
    released = 0
    for unit_id in await repository.units_with_pending(
        session, period_id=period.id, at_least=period.k
    ):
        released += await release_unit(session, period=period, unit_id=unit_id, today=today)
    return released


async def release_all(session: AsyncSession, *, period: Period, today: date) -> int:
    """At close: release what every unit still holds, whatever the count. The caller
    holds the period's release lock."""
    released = 0
    for unit_id in await repository.units_with_pending(session, period_id=period.id, at_least=1):
        released += await release_unit(session, period=period, unit_id=unit_id, today=today)
    return released
