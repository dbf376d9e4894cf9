"""Pure: turn a unit's stored final results into the report data a reader gets.

A suppressed unit's data is built from the suppressed contract type alone, which has no
field that could hold a number, so no number derived from its answers can appear."""

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter

from forbedring_contracts.events import (
    PublishedUnitResults,
    Questionnaire,
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
) -> dict[str, Any]:
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
    if questionnaire is not None:
        factor_names = {f.factor_id: getattr(f.name, language) for f in questionnaire.factors}
        item_texts = {i.item_id: getattr(i.text, language) for i in questionnaire.items}
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
    }
