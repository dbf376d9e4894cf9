"""Live state of a period: counts only, never answer data (results leave as events)."""

from fastapi import APIRouter, Depends

from forbedring_aggregation import live_state
from forbedring_aggregation.access import hr_admin_of_period
from forbedring_aggregation.errors import NotFinalYet, PeriodUnknown
from forbedring_aggregation.schemas import (
    PeriodLiveState,
    SnapshotStatus,
    SuppressionPreview,
    UnitLiveState,
    preview_of,
    unit_state_of,
)
from forbedring_chassis.runtime import SessionDep

# Every route is a period's, and only its HR admins read it.
router = APIRouter(
    prefix="/api/v1", tags=["live state"], dependencies=[Depends(hr_admin_of_period)]
)


async def _state(session: SessionDep, period_id: str) -> live_state.PeriodState:
    state = await live_state.period_state(session, period_id=period_id)
    if state is None:
        raise PeriodUnknown(f"period {period_id} is not known (not opened yet?)")
    return state


@router.get("/periods/{period_id}/units")
async def period_live_state(period_id: str, session: SessionDep) -> PeriodLiveState:
    state = await _state(session, period_id)
    return PeriodLiveState(
        period_id=period_id,
        k=state.k,
        units=[unit_state_of(period_id, state.k, u) for u in state.units.values()],
    )


@router.get("/periods/{period_id}/units/{unit_id}")
async def unit_live_state(period_id: str, unit_id: str, session: SessionDep) -> UnitLiveState:
    state = await live_state.period_state(session, period_id=period_id)
    if state is not None and unit_id in state.units:
        return unit_state_of(period_id, state.k, state.units[unit_id])
    count = await live_state.direct_respondents(session, period_id=period_id, unit_id=unit_id)
    return UnitLiveState(
        period_id=period_id,
        unit_id=unit_id,
        respondents=count,
        direct_respondents=count,
        eligible=None,
        k=None,
        reached_k=None,
    )


@router.get("/periods/{period_id}/suppression-preview")
async def suppression_preview(period_id: str, session: SessionDep) -> SuppressionPreview:
    """Which units would get results if the period closed now (counts so far)."""
    state = await _state(session, period_id)
    return preview_of(state)


@router.get("/periods/{period_id}/snapshot")
async def snapshot_status(period_id: str, session: SessionDep) -> SnapshotStatus:
    """Whether the period's results are final, and their checksum (no results here)."""
    found = await live_state.snapshot_status(session, period_id=period_id)
    if found is None:
        raise NotFinalYet(f"period {period_id} has no final snapshot yet")
    return SnapshotStatus.model_validate(found, from_attributes=True)
