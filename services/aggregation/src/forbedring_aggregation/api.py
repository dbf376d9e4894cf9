"""Live state of a period: counts only, never answer data (results leave as events)."""

import dataclasses
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from forbedring_aggregation import service
from forbedring_aggregation.errors import NotFinalYet, PeriodUnknown
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


class HiddenUnitPreview(BaseModel):
    unit_id: str
    name: str
    reason: Literal["too_few_respondents", "direct_answers_too_few", "protects_smaller_unit"] = (
        Field(
            description="`too_few_respondents`: fewer than k answered; "
            "`direct_answers_too_few`: its own answers, those in no published sub-unit, are "
            "fewer than k and count in `included_in`; `protects_smaller_unit`: publishing it "
            "would let a smaller group's answers be computed by subtraction."
        )
    )
    included_in: str | None = Field(
        description="The nearest published unit that counts its answers (null: nothing "
        "can be published yet)."
    )
    respondents: int = Field(description="Respondents so far, including its sub-units.")
    team: bool = Field(description="A leaf unit (cost centre): a team.")
    roll_up_sub_units: list[str] = Field(
        description="The published sub-units its roll-up would sum (empty: no roll-up)."
    )
    roll_up_respondents: int = Field(description="Respondents the roll-up would cover.")


class SuppressionTotals(BaseModel):
    units: int
    units_hidden: int
    teams: int = Field(description="Leaf units (cost centres).")
    teams_hidden: int
    respondents: int
    respondents_without_own_report: int = Field(
        description="Respondents whose own unit would get no report: what the rule minimises."
    )


class SuppressionPreview(BaseModel):
    period_id: str
    k: int
    method: Literal["greedy_v1", "optimal_v2"] = Field(
        description="The suppression rule (a period closed now uses `optimal_v2`)."
    )
    published: list[str] = Field(description="Units that would get results if it closed now.")
    suppressed: list[str]
    hidden: list[HiddenUnitPreview] = Field(description="Each hidden unit, and why.")
    totals: SuppressionTotals


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
        raise PeriodUnknown(f"period {period_id} is not known (not opened yet?)")
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
    return preview_of(state)


def preview_of(state: service.PeriodState) -> SuppressionPreview:
    explanation = state.explanation
    return SuppressionPreview(
        period_id=state.period_id,
        k=state.k,
        method=explanation.method.value,
        **state.preview.preview(),
        hidden=[
            HiddenUnitPreview(
                unit_id=h.unit_id,
                name=state.names.get(h.unit_id, h.unit_id),
                reason=h.reason,  # type: ignore[arg-type]
                included_in=h.included_in,
                respondents=h.respondents,
                team=h.team,
                roll_up_sub_units=list(h.roll_up_sub_units),
                roll_up_respondents=h.roll_up_respondents,
            )
            for h in explanation.hidden
        ],
        totals=SuppressionTotals(**dataclasses.asdict(explanation.totals)),
    )


@router.get("/periods/{period_id}/snapshot")
async def snapshot_status(period_id: str, session: SessionDep) -> SnapshotStatus:
    """Whether the period's results are final, and their checksum (no results here)."""
    found = await service.snapshot_status(session, period_id=period_id)
    if found is None:
        raise NotFinalYet(f"period {period_id} has no final snapshot yet")
    return SnapshotStatus(
        period_id=found.period_id,
        unit_count=found.unit_count,
        published_count=found.published_count,
        checksum=found.checksum,
        finalized_at=found.finalized_at,
    )
