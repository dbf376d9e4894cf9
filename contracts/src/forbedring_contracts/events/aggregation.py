"""Events the aggregation service publishes: each unit's final results, then the snapshot.

A suppressed unit's results are a type of their own whose only figures are the optional
roll-up of its published sub-units: sums of published cells, never a number of its own
(`docs/suppression.md`).
"""

import hashlib
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from forbedring_contracts.events.base import ContractModel, Count, Event, Id, Percent

# --- parts -----------------------------------------------------------------------------


class ScaleDistribution(ContractModel):
    """How many respondents chose each option of a scale item."""

    strongly_disagree: Count = Field(description="Respondents answering 1.")
    disagree: Count = Field(description="Respondents answering 2.")
    neither: Count = Field(description="Respondents answering 3.")
    agree: Count = Field(description="Respondents answering 4.")
    strongly_agree: Count = Field(description="Respondents answering 5.")
    dont_know: Count = Field(description="Respondents answering don't know / not relevant.")


class ScaleItemResult(ContractModel):
    """A scale item's results for a published unit."""

    kind: Literal["scale"] = Field(description="Tells scale and yes/no results apart.")
    item_id: Id = Field(description="The item.")
    distribution: ScaleDistribution = Field(description="Answers per option.")
    valid: Count = Field(description="Answers other than don't know.")
    mean: Percent | None = Field(
        description="Mean score 0-100 ((answer - 1) x 25, reverse-scored items flipped); "
        "null when fewer than k valid answers."
    )
    percent_agree: Percent | None = Field(
        description="Share of valid answers that agree (4 or 5), in percent; null when "
        "fewer than k valid answers."
    )


class YesNoItemResult(ContractModel):
    """A yes/no item's results for a published unit."""

    kind: Literal["yes_no"] = Field(description="Tells scale and yes/no results apart.")
    item_id: Id = Field(description="The item.")
    yes: Count = Field(description="Respondents answering yes.")
    no: Count = Field(description="Respondents answering no.")
    percent_yes: Percent | None = Field(
        description="Share of yes among yes and no, in percent; null when fewer than the "
        "item's threshold answered."
    )


ItemResult = Annotated[ScaleItemResult | YesNoItemResult, Field(discriminator="kind")]


class FactorResult(ContractModel):
    """A factor's results for a published unit (Safety Attitudes Questionnaire scoring)."""

    factor_id: Id = Field(description="The factor.")
    scored: Count = Field(
        description="Respondents with a factor score (at least one valid answer to its items)."
    )
    mean: Percent | None = Field(
        description="Mean of the respondents' factor scores, 0-100; null when fewer than k "
        "respondents have a score."
    )
    percent_positive: Percent | None = Field(
        description="Share of scored respondents whose factor score is at least 75, in "
        "percent; null when fewer than k respondents have a score."
    )


class Indicator(ContractModel):
    """A unit-level indicator, e.g. good safety climate, under one named definition."""

    indicator_id: Id = Field(
        description="Which indicator and definition, e.g. `good_safety_climate_agree` (at "
        "least 75 % agree) or `good_safety_climate_saq` (at least 60 % with a "
        "safety-climate score of 75 or more)."
    )
    value: Percent | None = Field(description="The measured share in percent, if known.")
    threshold: Percent = Field(description="The share the definition requires, in percent.")
    met: bool | None = Field(description="Whether the unit meets it; null when unknown.")


# --- events ----------------------------------------------------------------------------


class PublishedUnitResults(Event):
    """The final results of a unit that gets results."""

    published: Literal[True] = Field(description="True: this unit's results are published.")
    period_id: Id = Field(description="The period.")
    unit_id: Id = Field(description="The unit.")
    respondents: int = Field(
        ge=1, description="Respondents counted in this unit, including its sub-units."
    )
    eligible: Count = Field(description="Invitations in this unit, including its sub-units.")
    factors: tuple[FactorResult, ...] = Field(description="Results per factor.")
    items: tuple[ItemResult, ...] = Field(
        description="Results per item, except the withheld sensitive items."
    )
    withheld_items: tuple[Id, ...] = Field(
        description="Sensitive items whose results are withheld for this unit: their own "
        "table, with the higher threshold, does not publish it."
    )
    withheld_items_included_in: Id | None = Field(
        description="The published unit whose sensitive-item results include this unit's "
        "answers, when sensitive items are withheld; else null."
    )
    indicators: tuple[Indicator, ...] = Field(description="The unit's indicators.")


SuppressionMethod = Literal["greedy_v1", "optimal_v2"]
"""Which suppression rule finalised a snapshot: `greedy_v1`, the first edition (hide the
smallest unit with a remainder); `optimal_v2`, the second edition (the safe pattern that
leaves the fewest respondents without their own unit's report, then hides the fewest
units)."""


class SubUnitsRollUp(ContractModel):
    """Not the unit's own results: the sum of the results of its nearest published
    sub-units, computed only from their published cells, so it reveals nothing those
    cells do not. The unit's other respondents count in its nearest published ancestor."""

    sub_units: tuple[Id, ...] = Field(
        min_length=1, description="The nearest published sub-units it covers, by id."
    )
    respondents: int = Field(ge=1, description="Respondents it covers (X): the sub-units' sum.")
    unit_respondents: Count = Field(
        description="Respondents counted in the hidden unit, including its sub-units (Y); "
        "the other Y - X count in the unit named by `included_in`."
    )
    eligible: Count = Field(description="Invitations in the sub-units it covers.")
    factors: tuple[FactorResult, ...] = Field(
        description="Per factor: `scored` summed; the mean and percent positive only when "
        "every covered sub-unit with a score publishes its own and at least k are scored."
    )
    items: tuple[ItemResult, ...] = Field(
        description="Per item: the summed distribution, with the mean and percentages under "
        "the same item-level threshold as a unit's own."
    )
    withheld_items: tuple[Id, ...] = Field(
        description="Sensitive items left out: some covered sub-unit withholds them."
    )


SuppressionReason = Literal[
    "too_few_respondents", "protects_smaller_unit", "direct_answers_too_few"
]


class SuppressedUnitResults(Event):
    """A unit that gets no results of its own. It says why and which published unit
    includes its answers; its only figures are the optional roll-up of its published
    sub-units, clearly not its own."""

    published: Literal[False] = Field(description="False: this unit's results are suppressed.")
    period_id: Id = Field(description="The period.")
    unit_id: Id = Field(description="The unit.")
    reason: SuppressionReason = Field(
        description="`too_few_respondents`: fewer than k answered; `protects_smaller_unit`: "
        "publishing it would let a smaller group's answers be computed by subtraction; "
        "`direct_answers_too_few`: its own answers, those in no published sub-unit, are "
        "fewer than k and count in `included_in` instead."
    )
    included_in: Id = Field(description="The nearest published unit that includes its answers.")
    roll_up: SubUnitsRollUp | None = Field(
        default=None,
        description="The roll-up of its nearest published sub-units, when it has any (second "
        "edition only). Absent, not null, when there is none.",
    )

    @model_serializer(mode="wrap")
    def _omit_absent_roll_up(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, object]:
        # A first-edition snapshot has no roll-ups; leaving the key out keeps its bytes
        # (and so its checksum) exactly as they were when it was finalised.
        data: dict[str, object] = handler(self)
        if self.roll_up is None:
            data.pop("roll_up", None)
        return data


UnitResults = Annotated[
    PublishedUnitResults | SuppressedUnitResults,
    Field(
        discriminator="published",
        title="UnitResults",
        description="A unit's final results for a period: published, or suppressed.",
    ),
]


class ResultsFinalized(Event):
    """A period's results snapshot is final and immutable: one unit-results event was
    published for each of its units."""

    period_id: Id = Field(description="The period.")
    unit_count: int = Field(ge=1, description="Units in the snapshot (unit-results events).")
    published_count: int = Field(ge=1, description="Units among them with published results.")
    checksum: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256, lowercase hex, over the snapshot's unit-results message values "
        "as published, ordered by unit id, each followed by a newline (see "
        "`results_checksum`).",
    )
    finalized_at: AwareDatetime = Field(description="When the snapshot was finalised.")
    suppression_method: SuppressionMethod | None = Field(
        default=None,
        description="The suppression rule that finalised the snapshot (null: `greedy_v1`, "
        "from before this field existed).",
    )


def results_checksum(values: Iterable[tuple[str, bytes]]) -> str:
    """The `ResultsFinalized.checksum` of (unit id, unit-results message value) pairs."""
    digest = hashlib.sha256()
    for _, value in sorted(values):
        digest.update(value)
        digest.update(b"\n")
    return digest.hexdigest()
