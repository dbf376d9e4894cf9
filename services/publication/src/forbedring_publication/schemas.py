"""What the JSON API gives: a unit's report and the unit list. The pages and exports read
the same data. A hidden unit's report has no field for a number of its own; its only
figures are the roll-up of its published sub-units, in a model of its own that carries
its label."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, PlainSerializer

from forbedring_contracts.events import (
    FactorResult,
    Indicator,
    ScaleItemResult,
    YesNoItemResult,
)

Reason = Literal["too_few_respondents", "protects_smaller_unit", "direct_answers_too_few"]


class UnitRef(BaseModel):
    unit_id: str
    name: str = Field(description="The unit's name in the period's directory (its id if unknown).")


class FactorView(FactorResult):
    name: str = Field(description="The factor's name in the report's language.")


class ScaleItemView(ScaleItemResult):
    text: str = Field(description="The item's text in the report's language.")


class YesNoItemView(YesNoItemResult):
    text: str = Field(description="The item's text in the report's language.")


ItemView = Annotated[ScaleItemView | YesNoItemView, Field(discriminator="kind")]


class ResultsView(BaseModel):
    """Results as a report shows them: a published unit's own, or a roll-up."""

    respondents: int
    eligible: int
    response_rate: float | None = Field(description="Respondents of eligible, in percent.")
    factors: list[FactorView]
    items: list[ItemView]
    withheld_items: list[str] = Field(description="Sensitive items whose results are withheld.")
    follow_up: list[str] = Field(
        description="Items to follow up (under 60 % agree, or a mean under 75)."
    )
    strengths: list[str] = Field(description="The best-scoring items needing no follow-up.")


class RollUpView(ResultsView):
    """Not the hidden unit's own results: the sum of its nearest published sub-units'
    results, `respondents` (X) of its `unit_respondents` (Y); the other Y - X respondents
    count in `other_respondents_counted_in`."""

    label: str = Field(description="What this is, as one sentence in the report's language.")
    sub_units: list[UnitRef] = Field(description="The published sub-units it sums.")
    unit_respondents: int = Field(description="Respondents of the hidden unit (Y).")
    other_respondents: int = Field(description="Y - X: those in none of the sub-units.")
    other_respondents_counted_in: UnitRef = Field(
        description="The nearest published unit above, which counts the other respondents."
    )


class Comparison(BaseModel):
    """Means to compare with: another unit's own, or (`roll_up`) the roll-up of a hidden
    unit's published sub-units, which `label` then says."""

    unit_id: str
    name: str
    label: str = Field(description="What the figures are, for a column or line heading.")
    roll_up: bool = Field(description="True: not the unit's own results but its roll-up.")
    factors: dict[str, float | None]
    items: dict[str, float | None]


class Comparisons(BaseModel):
    parent: Comparison | None
    enterprise: Comparison | None
    previous: Comparison | None


class RollUpSummary(BaseModel):
    """That a hidden unit has a roll-up, and how much of the unit it covers."""

    sub_units: int = Field(description="How many published sub-units it sums (N).")
    respondents: int = Field(description="Respondents it covers (X).")
    unit_respondents: int = Field(description="Respondents of the hidden unit (Y).")


class PublishedSummary(BaseModel):
    unit_id: str
    name: str
    published: Literal[True]
    respondents: int
    eligible: int
    response_rate: float | None
    parent_id: str | None = None
    level: str | None = None


class SuppressedSummary(BaseModel):
    unit_id: str
    name: str
    published: Literal[False]
    reason: Reason
    included_in: UnitRef
    roll_up: RollUpSummary | None
    parent_id: str | None = None
    level: str | None = None


UnitSummary = Annotated[PublishedSummary | SuppressedSummary, Field(discriminator="published")]


class UnitList(BaseModel):
    period_id: str
    stage: int
    units: list[UnitSummary]


class PublishedUnitReport(ResultsView):
    period_id: str
    stage: int
    language: str
    unit: UnitRef
    published: Literal[True]
    withheld_items_included_in: UnitRef | None
    indicators: list[Indicator]
    comparisons: Comparisons
    sub_units: list[UnitSummary]


class SuppressedUnitReport(BaseModel):
    """Why the unit is hidden and where its answers count; no number of its own."""

    period_id: str
    stage: int
    language: str
    unit: UnitRef
    published: Literal[False]
    reason: Reason
    message: str = Field(description="Why, as a sentence in the report's language.")
    included_in: UnitRef
    roll_up: RollUpView | None = Field(
        description="The roll-up of its published sub-units, when it has any: clearly not "
        "its own results."
    )


UnitReport = Annotated[PublishedUnitReport | SuppressedUnitReport, Field(discriminator="published")]


# As the API has always written them: Python's ISO format (`+00:00`, not `Z`).
Moment = Annotated[AwareDatetime, PlainSerializer(lambda m: m.isoformat(), return_type=str)]


class StageRelease(BaseModel):
    stage: Literal[1, 2]
    audience: list[str] = Field(description="The roles that may read from this stage on.")
    at: Moment | None = Field(description="When the stage is due; null until finalised.")
    released_at: Moment | None = Field(description="When it was released, if it was.")


class ReleaseSchedule(BaseModel):
    """When a period's results come, stage by stage."""

    period_id: str
    finalised: bool = Field(description="True once aggregation's final snapshot is in.")
    released_stage: int = Field(description="0 before stage 1, then 1 or 2.")
    stages: list[StageRelease]
    units_received: int | None = Field(
        default=None, description="HR admins only: units whose results have arrived."
    )
    units_expected: int | None = Field(
        default=None, description="HR admins only: units the period has."
    )
