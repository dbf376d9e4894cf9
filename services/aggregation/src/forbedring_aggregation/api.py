"""Live state of a period: counts only, never answer data (results leave as events)."""

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from forbedring_aggregation import service
from forbedring_chassis.runtime import SessionDep

router = APIRouter(prefix="/api/v1", tags=["live state"])


class UnitLiveState(BaseModel):
    period_id: str
    unit_id: str
    respondents: int = Field(
        description="Respondents counted for the unit including its sub-units (only the "
        "unit's own while the period's tree is not known yet)."
    )
    direct_respondents: int = Field(description="Respondents answering for this unit itself.")
    eligible: int | None = Field(description="Invitations including sub-units, if known.")
    k: int | None = Field(description="The period's threshold, if the period is known.")
    reached_k: bool | None = Field(
        description="Whether respondents >= k: below it the unit is at risk of no results."
    )


class PeriodLiveState(BaseModel):
    period_id: str
    k: int
    units: list[UnitLiveState]


class SuppressionPreview(BaseModel):
    period_id: str
    k: int
    published: list[str] = Field(description="Units that would get results if it closed now.")
    suppressed: list[str]


class SnapshotStatus(BaseModel):
    period_id: str
    unit_count: int
    published_count: int
    checksum: str
    finalized_at: datetime


def _unit(period_id: str, k: int, state: service.UnitState) -> UnitLiveState:
    return UnitLiveState(
        period_id=period_id,
        unit_id=state.unit_id,
        respondents=state.respondents,
        direct_respondents=state.direct_respondents,
        eligible=state.eligible,
        k=k,
        reached_k=state.reached_k,
    )


async def _state(session: SessionDep, period_id: str) -> service.PeriodState:
    state = await service.period_state(session, period_id=period_id)
    if state is None:
        raise HTTPException(404, f"period {period_id} is not known (not opened yet?)")
    return state


@router.get("/periods/{period_id}/units")
async def period_live_state(period_id: str, session: SessionDep) -> PeriodLiveState:
    state = await _state(session, period_id)
    return PeriodLiveState(
        period_id=period_id,
        k=state.k,
        units=[_unit(period_id, state.k, u) for u in state.units.values()],
    )


@router.get("/periods/{period_id}/units/{unit_id}")
async def unit_live_state(period_id: str, unit_id: str, session: SessionDep) -> UnitLiveState:
    state = await service.period_state(session, period_id=period_id)
    if state is not None and unit_id in state.units:
        return _unit(period_id, state.k, state.units[unit_id])
    count = await service.direct_respondents(session, period_id=period_id, unit_id=unit_id)
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
    preview = state.preview.preview()
    return SuppressionPreview(period_id=period_id, k=state.k, **preview)


@router.get("/periods/{period_id}/snapshot")
async def snapshot_status(period_id: str, session: SessionDep) -> SnapshotStatus:
    """Whether the period's results are final, and their checksum (no results here)."""
    found = await service.snapshot_status(session, period_id=period_id)
    if found is None:
        raise HTTPException(404, f"period {period_id} has no final snapshot yet")
    return SnapshotStatus(
        period_id=found.period_id,
        unit_count=found.unit_count,
        published_count=found.published_count,
        checksum=found.checksum,
        finalized_at=found.finalized_at,
    )
