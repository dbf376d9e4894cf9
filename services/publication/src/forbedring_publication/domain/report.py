"""Pure: turn a unit's stored final results into the report data a reader gets.

A suppressed unit's data is built from the suppressed contract type alone, which has no
field that could hold a number, so no number derived from its answers can appear."""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter

from forbedring_contracts.events import (
    PublishedUnitResults,
    Questionnaire,
    ScaleItemResult,
    SuppressedUnitResults,
    UnitResults,
)

_RESULTS: TypeAdapter[PublishedUnitResults | SuppressedUnitResults] = TypeAdapter(UnitResults)

REASONS = {
    "too_few_respondents": {
        "nb": "For få svarte til at enheten får egne resultater. Svarene teller med i {unit}.",
        "nn": "For få svara til at eininga får eigne resultat. Svara tel med i {unit}.",
        "en": "Too few answered for this unit to get results of its own. "
        "Its answers count in {unit}.",
    },
    "protects_smaller_unit": {
        "nb": "Resultatene vises ikke, for å skjerme svarene i en mindre enhet. "
        "Svarene teller med i {unit}.",
        "nn": "Resultata blir ikkje viste, for å skjerme svara i ei mindre eining. "
        "Svara tel med i {unit}.",
        "en": "Results are not shown, to protect the answers of a smaller unit. "
        "Its answers count in {unit}.",
    },
}


# Seed 002: an item needs following up when fewer than 60 % agree or its mean is under 75.
FOLLOW_UP_AGREE_BELOW = 60.0
FOLLOW_UP_MEAN_BELOW = 75.0
STRENGTHS = 3
"""How many of the best-scoring items the report names as "what works"."""


def needs_follow_up(item: ScaleItemResult, *, reverse_scored: bool) -> bool:
    """For a reverse-scored item agreeing is unfavourable, so only its (flipped) mean
    counts; the agreement rule applies to the others."""
    low_mean = item.mean is not None and item.mean < FOLLOW_UP_MEAN_BELOW
    low_agree = (
        not reverse_scored
        and item.percent_agree is not None
        and item.percent_agree < FOLLOW_UP_AGREE_BELOW
    )
    return low_mean or low_agree


def strengths(items: Sequence[ScaleItemResult], flagged: set[str]) -> list[str]:
    """The best-scoring items that need no follow-up, best first (ties by id)."""
    scored = [i for i in items if i.mean is not None and i.item_id not in flagged]
    scored.sort(key=lambda i: (-(i.mean or 0.0), i.item_id))
    return [i.item_id for i in scored[:STRENGTHS]]


def comparison(
    other: PublishedUnitResults | SuppressedUnitResults | None, names: Mapping[str, str]
) -> dict[str, Any] | None:
    """Another unit's factor and item means to compare with, only when it is published."""
    if not isinstance(other, PublishedUnitResults):
        return None
    return {
        **unit_ref(other.unit_id, names),
        "factors": {f.factor_id: f.mean for f in other.factors},
        "items": {i.item_id: i.mean for i in other.items if isinstance(i, ScaleItemResult)},
    }


def parse(value: bytes) -> PublishedUnitResults | SuppressedUnitResults:
    return _RESULTS.validate_json(value)


def unit_ref(unit_id: str, names: Mapping[str, str]) -> dict[str, str]:
    return {"unit_id": unit_id, "name": names.get(unit_id, unit_id)}


def response_rate(respondents: int, eligible: int) -> float | None:
    return round(100 * respondents / eligible, 1) if eligible else None


def summary(
    results: PublishedUnitResults | SuppressedUnitResults, names: Mapping[str, str]
) -> dict[str, Any]:
    """One line of the unit list: respondent counts only for published units."""
    if isinstance(results, SuppressedUnitResults):
        return {
            **unit_ref(results.unit_id, names),
            "published": False,
            "reason": results.reason,
            "included_in": unit_ref(results.included_in, names),
        }
    return {
        **unit_ref(results.unit_id, names),
        "published": True,
        "respondents": results.respondents,
        "eligible": results.eligible,
        "response_rate": response_rate(results.respondents, results.eligible),
    }


def report(
    results: PublishedUnitResults | SuppressedUnitResults,
    *,
    names: Mapping[str, str],
    questionnaire: Questionnaire | None,
    language: str,
    stage: int,
    parent: PublishedUnitResults | SuppressedUnitResults | None = None,
    enterprise: PublishedUnitResults | SuppressedUnitResults | None = None,
    sub_units: Sequence[PublishedUnitResults | SuppressedUnitResults] = (),
    previous: PublishedUnitResults | SuppressedUnitResults | None = None,
) -> dict[str, Any]:
    """The report data of one unit. `parent` and `enterprise` are compared with when
    published; `sub_units` are listed by their summaries (no numbers for suppressed ones)."""
    base = {"period_id": results.period_id, "stage": stage, "language": language}
    if isinstance(results, SuppressedUnitResults):
        including = unit_ref(results.included_in, names)
        return {
            **base,
            "unit": unit_ref(results.unit_id, names),
            "published": False,
            "reason": results.reason,
            "message": REASONS[results.reason][language].format(unit=including["name"]),
            "included_in": including,
        }
    factor_names = {}
    item_texts = {}
    reverse: set[str] = set()
    if questionnaire is not None:
        factor_names = {f.factor_id: getattr(f.name, language) for f in questionnaire.factors}
        item_texts = {i.item_id: getattr(i.text, language) for i in questionnaire.items}
        reverse = {i.item_id for i in questionnaire.items if i.reverse_scored}
    scale = [i for i in results.items if isinstance(i, ScaleItemResult)]
    flagged = {i.item_id for i in scale if needs_follow_up(i, reverse_scored=i.item_id in reverse)}
    return {
        **base,
        "unit": unit_ref(results.unit_id, names),
        "published": True,
        "respondents": results.respondents,
        "eligible": results.eligible,
        "response_rate": response_rate(results.respondents, results.eligible),
        "factors": [
            {**f.model_dump(mode="json"), "name": factor_names.get(f.factor_id, f.factor_id)}
            for f in results.factors
        ],
        "items": [
            {**i.model_dump(mode="json"), "text": item_texts.get(i.item_id, i.item_id)}
            for i in results.items
        ],
        "withheld_items": list(results.withheld_items),
        "withheld_items_included_in": (
            unit_ref(results.withheld_items_included_in, names)
            if results.withheld_items_included_in
            else None
        ),
        "indicators": [i.model_dump(mode="json") for i in results.indicators],
        "follow_up": [i.item_id for i in scale if i.item_id in flagged],
        "strengths": strengths(scale, flagged),
        "comparisons": {
            "parent": comparison(parent, names),
            "enterprise": (
                comparison(enterprise, names)
                if enterprise is not None and enterprise.unit_id != results.unit_id
                else None
            ),
            "previous": comparison(previous, names),
        },
        "sub_units": [summary(s, names) for s in sub_units],
    }


INDICATORS = ("good_safety_climate_agree", "good_safety_climate_saq")


def indicator_by_level(
    results: Sequence[PublishedUnitResults | SuppressedUnitResults],
    levels: Mapping[str, str],
    *,
    target: float,
) -> list[dict[str, Any]]:
    """Per level of the tree and indicator definition: how many published units meet it,
    of those where it is known, and whether the share reaches the target. Suppressed
    units are not counted (they have no results of their own)."""
    tally: dict[tuple[str, str], list[int]] = {}
    for unit in results:
        if not isinstance(unit, PublishedUnitResults):
            continue
        level = levels.get(unit.unit_id, "?")
        for indicator in unit.indicators:
            if indicator.indicator_id not in INDICATORS or indicator.met is None:
                continue
            counts = tally.setdefault((level, indicator.indicator_id), [0, 0])
            counts[0] += 1 if indicator.met else 0
            counts[1] += 1
    rows = []
    for (level, indicator_id), (met, known) in sorted(tally.items()):
        share = round(100 * met / known, 1)
        rows.append(
            {
                "level": level,
                "indicator_id": indicator_id,
                "units_met": met,
                "units_known": known,
                "share": share,
                "target": target,
                "target_met": share >= target,
            }
        )
    return rows
