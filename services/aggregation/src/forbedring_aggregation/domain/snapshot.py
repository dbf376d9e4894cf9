"""A period's final results snapshot from its units' counters: pure, deterministic.

Input: the period's tree, thresholds and layout, and per unit its direct respondents and
counter vector (`scoring`). Output: one unit-results event per unit of the tree, ordered
by unit id. The same counters always give the same events, byte for byte (integers in,
numbers rounded to two decimals out, no clock, no set iteration order).

Two suppression tables (docs/suppression.md): the ordinary one with k over the respondent
counts, and the sensitive-items one with sensitive_k over the respondents who answered a
sensitive item. A unit published in the first but not the second gets its results with
the sensitive items withheld and says which unit includes them.

Under the second edition (`optimal_v2`) a hidden unit with published descendants also
carries the roll-up of its nearest published sub-units: their summed counters, shown
under the same item-level rules, and a factor's mean only where every covered sub-unit
with a score shows its own (else the roll-up would reveal a small sub-unit's mean by
difference). The first edition (`greedy_v1`) is reproduced as it was: no roll-ups.

Indicators (docs/scoring.md, "Good safety climate"; both always computed, each labelled):
- `good_safety_climate_agree` (trust target, 004 note 3: "at least 75 % answered agree
  somewhat or strongly agree"): the share of the unit's valid answers to the
  safety-climate items that agree, pooled over the items, where agreement means the
  favourable answer (4-5; 1-2 for a reverse-scored item, whose agreement is unfavourable).
  Pooled over answers rather than per respondent because the trust defines it by answers
  and the pooled share needs no counter beyond the item distributions. Threshold 75 by
  default (raised to 80 from 2023 in 004; configurable).
- `good_safety_climate_saq` (standard SAQ): the share of respondents whose safety-climate
  factor score is at least 75 (the factor's percent positive); threshold 60.
Both are null (and `met` null) when fewer than k respondents have a safety-climate score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from forbedring_aggregation.domain.scoring import (
    SENSITIVE_RESPONDENTS,
    Layout,
    add_into,
    factor_counts,
    item_counts,
    mean_factor_score,
    mean_item_score,
    percent,
)
from forbedring_aggregation.domain.suppression import (
    SuppressionMethod,
    SuppressionReason,
    SuppressionResult,
    UnitNode,
    build_unit_tree,
    compute_sensitive_suppression,
    compute_suppression,
    item_statistic_publishable,
)
from forbedring_contracts.events import (
    Indicator,
    PublishedUnitResults,
    SubUnitsRollUp,
    SuppressedUnitResults,
)

AGREE_INDICATOR = "good_safety_climate_agree"
SAQ_INDICATOR = "good_safety_climate_saq"


@dataclass(frozen=True)
class IndicatorSettings:
    safety_climate_factor: str = "safety_climate"
    agree_threshold: float = 75.0
    saq_threshold: float = 60.0


@dataclass(frozen=True)
class PeriodUnit:
    unit_id: str
    parent_id: str | None
    eligible: int


@dataclass(frozen=True)
class UnitCounters:
    respondents: int  # direct respondents of the unit
    vector: Sequence[int]


class NothingPublishableError(ValueError):
    """Fewer than k respondents in the whole tree: no unit can get results."""


REASON_CODES = {
    SuppressionReason.BELOW_THRESHOLD: "too_few_respondents",
    SuppressionReason.COMPLEMENTARY: "protects_smaller_unit",
    SuppressionReason.DIRECT_ANSWERS_TOO_FEW: "direct_answers_too_few",
}

UnitResult = PublishedUnitResults | SuppressedUnitResults


def suppression_tables(
    units: Sequence[PeriodUnit],
    counters: Mapping[str, UnitCounters],
    *,
    k: int,
    sensitive_k: int,
    method: SuppressionMethod = SuppressionMethod.OPTIMAL_V2,
) -> tuple[SuppressionResult, SuppressionResult]:
    """The ordinary and the sensitive-items suppression patterns."""
    ordinary = compute_suppression(
        [UnitNode(u.unit_id, u.parent_id, _direct(counters, u.unit_id).respondents) for u in units],
        k,
        method=method,
    )
    sensitive = compute_sensitive_suppression(
        [
            UnitNode(
                u.unit_id,
                u.parent_id,
                _vector_direct(counters, u.unit_id, SENSITIVE_RESPONDENTS),
            )
            for u in units
        ],
        sensitive_k,
        method=method,
    )
    return ordinary, sensitive


def _direct(counters: Mapping[str, UnitCounters], unit_id: str) -> UnitCounters:
    return counters.get(unit_id) or UnitCounters(0, ())


def _vector_direct(counters: Mapping[str, UnitCounters], unit_id: str, slot: int) -> int:
    vector = _direct(counters, unit_id).vector
    return vector[slot] if vector else 0


def build_snapshot(
    *,
    period_id: str,
    units: Sequence[PeriodUnit],
    layout: Layout,
    k: int,
    sensitive_k: int,
    counters: Mapping[str, UnitCounters],
    indicators: IndicatorSettings,
    method: SuppressionMethod = SuppressionMethod.OPTIMAL_V2,
) -> list[UnitResult]:
    """One unit-results event per unit, ordered by unit id, under `method` (a rebuild
    passes the method that finalised the period)."""
    ordinary, sensitive = suppression_tables(
        units, counters, k=k, sensitive_k=sensitive_k, method=method
    )
    if not ordinary.published:
        raise NothingPublishableError(f"period {period_id}: fewer than {k} respondents in all")
    tree = build_unit_tree(UnitNode(u.unit_id, u.parent_id, 0) for u in units)
    eligible_direct = {u.unit_id: u.eligible for u in units}
    totals: dict[str, list[int]] = {}
    eligible: dict[str, int] = {}
    for uid in tree.postorder:  # children before parents
        total = layout.zeros()
        own = _direct(counters, uid).vector
        if own:
            add_into(total, own)
        eligible[uid] = eligible_direct[uid]
        for child in tree.children[uid]:
            add_into(total, totals[child])
            eligible[uid] += eligible[child]
        totals[uid] = total

    results: list[UnitResult] = []
    for uid in sorted(tree.parent):
        if uid not in ordinary.published:
            included_in = ordinary.included_in[uid]
            assert included_in is not None  # something is published, and the root is
            covered = ordinary.sub_units[uid]
            results.append(
                SuppressedUnitResults(
                    published=False,
                    period_id=period_id,
                    unit_id=uid,
                    reason=REASON_CODES[ordinary.reasons[uid]],  # type: ignore[arg-type]
                    included_in=included_in,
                    roll_up=_roll_up(
                        uid,
                        covered,
                        totals=totals,
                        eligible=eligible,
                        ordinary=ordinary,
                        sensitive=sensitive,
                        layout=layout,
                        k=k,
                        sensitive_k=sensitive_k,
                    )
                    if covered and method is SuppressionMethod.OPTIMAL_V2
                    else None,
                )
            )
            continue
        results.append(
            _published(
                period_id=period_id,
                unit_id=uid,
                respondents=ordinary.respondents[uid],
                eligible=eligible[uid],
                vector=totals[uid],
                layout=layout,
                k=k,
                sensitive_k=sensitive_k,
                sensitive=sensitive,
                indicators=indicators,
            )
        )
    return results


def _published(
    *,
    period_id: str,
    unit_id: str,
    respondents: int,
    eligible: int,
    vector: Sequence[int],
    layout: Layout,
    k: int,
    sensitive_k: int,
    sensitive: SuppressionResult,
    indicators: IndicatorSettings,
) -> PublishedUnitResults:
    """The unit's results, built as plain data and validated once (a national snapshot has
    hundreds of thousands of item results; one validation per unit is far cheaper than a
    model per item, and checks the same constraints)."""
    items, withheld = _items(
        layout, vector, k=k, sensitive_k=sensitive_k, with_sensitive=sensitive.is_published(unit_id)
    )
    return PublishedUnitResults.model_validate(
        {
            "published": True,
            "period_id": period_id,
            "unit_id": unit_id,
            "respondents": respondents,
            "eligible": eligible,
            "factors": _factors(layout, vector, k=k, means_allowed=set(layout.factors)),
            "items": items,
            "withheld_items": withheld,
            "withheld_items_included_in": sensitive.included_in.get(unit_id) if withheld else None,
            "indicators": _indicators(layout, vector, k=k, settings=indicators),
        }
    )


def _roll_up(
    unit_id: str,
    covered: Sequence[str],
    *,
    totals: Mapping[str, Sequence[int]],
    eligible: Mapping[str, int],
    ordinary: SuppressionResult,
    sensitive: SuppressionResult,
    layout: Layout,
    k: int,
    sensitive_k: int,
) -> SubUnitsRollUp:
    """The sum of the covered (published) sub-units' results. Everything in it is
    determined by their published cells: distributions and counts add up; an item's
    mean and percentages follow from its summed distribution; a factor's mean only where
    every covered sub-unit with a score publishes its own mean (the counters' exact sums
    then add nothing a reader could not compute to the published rounding); sensitive
    items only where every covered sub-unit publishes them."""
    vector = layout.zeros()
    for z in covered:
        add_into(vector, totals[z])
    means_allowed = {
        factor_id
        for factor_id in layout.factors
        if all(not 0 < factor_counts(layout, totals[z], factor_id).scored < k for z in covered)
    }
    items, withheld = _items(
        layout,
        vector,
        k=k,
        sensitive_k=sensitive_k,
        with_sensitive=all(sensitive.is_published(z) for z in covered),
    )
    return SubUnitsRollUp.model_validate(
        {
            "sub_units": tuple(covered),
            "respondents": sum(ordinary.respondents[z] for z in covered),
            "unit_respondents": ordinary.respondents[unit_id],
            "eligible": sum(eligible[z] for z in covered),
            "factors": _factors(layout, vector, k=k, means_allowed=means_allowed),
            "items": items,
            "withheld_items": withheld,
        }
    )


def _items(
    layout: Layout, vector: Sequence[int], *, k: int, sensitive_k: int, with_sensitive: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """Item results as plain data, and the sensitive items withheld."""
    items: list[dict[str, Any]] = []
    withheld: list[str] = []
    for item in layout.items:
        if item.sensitive and not with_sensitive:
            withheld.append(item.item_id)
            continue
        counts = item_counts(layout, vector, item.item_id)
        o = counts.options
        if item.kind == "scale":
            valid = counts.valid_scale
            show = item_statistic_publishable(distribution_published=True, valid_answers=valid, k=k)
            items.append(
                {
                    "kind": "scale",
                    "item_id": item.item_id,
                    "distribution": {
                        "strongly_disagree": o[0],
                        "disagree": o[1],
                        "neither": o[2],
                        "agree": o[3],
                        "strongly_agree": o[4],
                        "dont_know": o[5],
                    },
                    "valid": valid,
                    "mean": mean_item_score(counts, reverse_scored=item.reverse_scored)
                    if show
                    else None,
                    "percent_agree": percent(counts.agree, valid) if show else None,
                }
            )
        else:
            answered = counts.yes + counts.no
            threshold = sensitive_k if item.sensitive else k
            items.append(
                {
                    "kind": "yes_no",
                    "item_id": item.item_id,
                    "yes": counts.yes,
                    "no": counts.no,
                    "percent_yes": percent(counts.yes, answered) if answered >= threshold else None,
                }
            )
    return items, withheld


def _factors(
    layout: Layout, vector: Sequence[int], *, k: int, means_allowed: set[str]
) -> list[dict[str, Any]]:
    factors: list[dict[str, Any]] = []
    for factor_id in layout.factors:
        fc = factor_counts(layout, vector, factor_id)
        show = fc.scored >= k and factor_id in means_allowed
        factors.append(
            {
                "factor_id": factor_id,
                "scored": fc.scored,
                "mean": mean_factor_score(layout, fc) if show else None,
                "percent_positive": percent(fc.positive, fc.scored) if show else None,
            }
        )
    return factors


def _indicators(
    layout: Layout, vector: Sequence[int], *, k: int, settings: IndicatorSettings
) -> tuple[Indicator, ...]:
    factor = settings.safety_climate_factor
    if factor not in layout.factor_base:
        return ()
    fc = factor_counts(layout, vector, factor)
    known = fc.scored >= k
    favourable = valid = 0
    for item in layout.items:
        if item.kind == "scale" and item.factor_id == factor:
            counts = item_counts(layout, vector, item.item_id)
            favourable += counts.favourable(reverse_scored=item.reverse_scored)
            valid += counts.valid_scale
    agree = percent(favourable, valid) if known and valid else None
    saq = percent(fc.positive, fc.scored) if known else None
    return (
        Indicator(
            indicator_id=AGREE_INDICATOR,
            value=agree,
            threshold=settings.agree_threshold,
            met=None if agree is None else agree >= settings.agree_threshold,
        ),
        Indicator(
            indicator_id=SAQ_INDICATOR,
            value=saq,
            threshold=settings.saq_threshold,
            met=None if saq is None else saq >= settings.saq_threshold,
        ),
    )
