"""Response models of the aggregation API (live state: counts only, never answer
data), each with the mapping from the use case's result."""

import dataclasses
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from forbedring_aggregation import live_state


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


def unit_state_of(period_id: str, k: int, state: live_state.UnitState) -> UnitLiveState:
    return UnitLiveState(period_id=period_id, k=k, **dataclasses.asdict(state))


def preview_of(state: live_state.PeriodState) -> SuppressionPreview:
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
