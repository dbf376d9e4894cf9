"""Use cases of the release schedule: release due stages (scheduler) and postpone one
(HR admin). Each runs in the caller's transaction; events go through the outbox."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.logging import get_logger
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import ResultsReleased
from forbedring_publication import repository
from forbedring_publication.domain.release import (
    STAGE_1_AUDIENCE,
    STAGE_2_AUDIENCE,
    PostponeRefused,
    Schedule,
    Stage,
    is_admin,
    postpone,
)
from forbedring_publication.errors import Conflict, Forbidden, Invalid, NotFound
from forbedring_publication.models import Period
from forbedring_publication.schemas import ReleaseSchedule, StageRelease

log = get_logger(__name__)


@dataclass(frozen=True)
class Released:
    period_id: str
    stage: Stage


def schedule_of(period: Period) -> Schedule:
    return Schedule(
        finalised=period.complete,
        stage_1_at=period.stage_1_at,
        stage_2_at=period.stage_2_at,
        stage_1_released_at=period.stage_1_released_at,
        stage_2_released_at=period.stage_2_released_at,
    )


def schedule_body(period: Period) -> ReleaseSchedule:
    schedule = schedule_of(period)
    return ReleaseSchedule(
        period_id=period.period_id,
        finalised=schedule.finalised,
        released_stage=schedule.released_stage,
        stages=[
            StageRelease(
                stage=1,
                audience=list(STAGE_1_AUDIENCE),
                at=schedule.stage_1_at,
                released_at=schedule.stage_1_released_at,
            ),
            StageRelease(
                stage=2,
                audience=list(STAGE_2_AUDIENCE),
                at=schedule.stage_2_at,
                released_at=schedule.stage_2_released_at,
            ),
        ],
    )


async def release_due(session: AsyncSession, *, now: datetime) -> list[Released]:
    """Release every stage that is due, once: the periods are locked (SKIP LOCKED) and a
    stage's release time is written in the same transaction as its results-released."""
    released: list[Released] = []
    for period in await repository.lock_due_periods(session, now=now):
        if period.stage_1_released_at is None:
            period.stage_1_released_at = now
            released.append(Released(period.period_id, 1))
            _emit(session, period_id=period.period_id, stage=1, now=now)
        assert period.stage_2_at is not None
        if period.stage_2_released_at is None and period.stage_2_at <= now:
            period.stage_2_released_at = now
            released.append(Released(period.period_id, 2))
            _emit(session, period_id=period.period_id, stage=2, now=now)
        session.add(period)
    return released


def _emit(session: AsyncSession, *, period_id: str, stage: Stage, now: datetime) -> None:
    stage_event(
        session,
        ResultsReleased(
            period_id=period_id,
            stage=stage,
            audience=STAGE_1_AUDIENCE if stage == 1 else STAGE_2_AUDIENCE,
            released_at=now,
        ),
    )
    log.info("publication.stage.released", period_id=period_id, stage=stage)


async def postpone_stage(
    session: AsyncSession,
    *,
    period_id: str,
    stage: Stage,
    until: datetime,
    person_id: str,
    now: datetime,
) -> ReleaseSchedule:
    """An HR admin moves a stage that has not happened yet to a later time."""
    period = await repository.get_period(session, period_id=period_id)
    if period is None:
        raise NotFound(f"There is no period {period_id!r}.")
    roles = await repository.roles_of(session, period_id=period_id, person_id=person_id)
    if not is_admin(roles):
        raise Forbidden("Only an HR admin can postpone a release stage.")
    period = await repository.lock_period(session, period_id=period_id)
    try:
        stage_1_at, stage_2_at = postpone(schedule_of(period), stage=stage, until=until, now=now)
    except PostponeRefused as refused:
        error = Conflict if refused.status == 409 else Invalid
        raise error(
            refused.message, schedule=schedule_body(period).model_dump(mode="json")
        ) from refused
    period.stage_1_at, period.stage_2_at = stage_1_at, stage_2_at
    period.postponed = True
    session.add(period)
    log.info("publication.stage.postponed", period_id=period_id, stage=stage)
    return schedule_body(period)
