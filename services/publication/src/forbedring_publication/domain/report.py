"""Pure: turn a unit's stored final results into the report data a reader gets.

A suppressed unit's data is built from the suppressed contract type alone, which has no
field that could hold a number of its own. Its only figures are the roll-up of its
published sub-units, shown only when it is exactly the combination of those sub-units'
published cells (`roll_up.problems`), and always labelled as not the unit's own."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from forbedring_contracts.events import (
    FactorResult,
    ItemResult,
    PublishedUnitResults,
    Questionnaire,
    ScaleItemResult,
    SubUnitsRollUp,
    SuppressedUnitResults,
    UnitResults,
)
from forbedring_contracts.scoring import follow_up_items, strengths
from forbedring_publication.domain import roll_up as roll_up_rules
from forbedring_publication.schemas import (
    Comparison,
    Comparisons,
    FactorView,
    ItemView,
    PublishedSummary,
    PublishedUnitReport,
    ResultsView,
    RollUpSummary,
    RollUpView,
    ScaleItemView,
    SuppressedSummary,
    SuppressedUnitReport,
    UnitRef,
    YesNoItemView,
)

Results = PublishedUnitResults | SuppressedUnitResults
_RESULTS: TypeAdapter[Results] = TypeAdapter(UnitResults)

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
    "direct_answers_too_few": {
        "nb": "Enhetens egne svar \u2013 de som ikke hører til en publisert underenhet "
        "\u2013 er for få. De teller med i {unit}.",
        "nn": "Eininga sine eigne svar \u2013 dei som ikkje høyrer til ei publisert "
        "undereining \u2013 er for få. Dei tel med i {unit}.",
        "en": "The unit's own answers \u2013 those in no published sub-unit \u2013 are too "
        "few. They count in {unit}.",
    },
}

# The label of a roll-up: what it is not, what it sums, and where the rest count.
ROLL_UP_COVERS = {
    "one": {
        "nb": "Ikke resultatene til {unit} selv, men resultatene til den ene publiserte "
        "underenheten: {covered} av enhetens {respondents} svar.",
        "nn": "Ikkje resultata til {unit} sjølv, men resultata til den eine publiserte "
        "undereininga: {covered} av dei {respondents} svara i eininga.",
        "en": "Not the results of {unit} itself, but those of its one published sub-unit: "
        "{covered} of its {respondents} respondents.",
    },
    "many": {
        "nb": "Ikke resultatene til {unit} selv, men summen av de {count} publiserte "
        "underenhetene: {covered} av enhetens {respondents} svar.",
        "nn": "Ikkje resultata til {unit} sjølv, men summen av dei {count} publiserte "
        "undereiningane: {covered} av dei {respondents} svara i eininga.",
        "en": "Not the results of {unit} itself, but the sum of its {count} published "
        "sub-units: {covered} of its {respondents} respondents.",
    },
}
ROLL_UP_OTHERS = {
    "none": {
        "nb": "Alle enhetens svar hører til disse underenhetene.",
        "nn": "Alle svara i eininga høyrer til desse undereiningane.",
        "en": "All its respondents are in these sub-units.",
    },
    "one": {
        "nb": "Det andre svaret teller med i {unit}.",
        "nn": "Det andre svaret tel med i {unit}.",
        "en": "The other one counts in {unit}.",
    },
    "many": {
        "nb": "De andre {others} svarene teller med i {unit}.",
        "nn": "Dei andre {others} svara tel med i {unit}.",
        "en": "The other {others} count in {unit}.",
    },
}
ROLL_UP_COMPARISON = {
    "nb": "Samlet for de publiserte underenhetene av {unit}",
    "nn": "Samla for dei publiserte undereiningane av {unit}",
    "en": "Roll-up of {unit}'s published sub-units",
}


def parse(value: bytes) -> Results:
    return _RESULTS.validate_json(value)


def unit_ref(unit_id: str, names: Mapping[str, str]) -> UnitRef:
    return UnitRef(unit_id=unit_id, name=names.get(unit_id, unit_id))


def response_rate(respondents: int, eligible: int) -> float | None:
    return round(100 * respondents / eligible, 1) if eligible else None


@dataclass(frozen=True)
class Texts:
    """The questionnaire in the report's language; `reverse_scored` is None when the
    questionnaire is not known."""

    language: str
    factor_names: Mapping[str, str]
    item_texts: Mapping[str, str]
    reverse_scored: frozenset[str] | None

    @classmethod
    def of(cls, questionnaire: Questionnaire | None, language: str) -> "Texts":
        if questionnaire is None:
            return cls(language, {}, {}, None)
        return cls(
            language,
            {f.factor_id: getattr(f.name, language) for f in questionnaire.factors},
            {i.item_id: getattr(i.text, language) for i in questionnaire.items},
            frozenset(i.item_id for i in questionnaire.items if i.reverse_scored),
        )


def shown_roll_up(
    results: Results, covered: Mapping[str, Results] | None, *, texts: Texts
) -> SubUnitsRollUp | None:
    """The hidden unit's roll-up, when it is exactly the combination of the published cells
    of the units it names (their results in `covered`); else None (`roll_up.problems`)."""
    if not isinstance(results, SuppressedUnitResults) or results.roll_up is None:
        return None
    if covered is None:
        return None
    if roll_up_rules.problems(results.roll_up, covered, reverse_scored=texts.reverse_scored):
        return None
    return results.roll_up


def roll_up_label(unit: str, roll_up: SubUnitsRollUp, *, counted_in: str, language: str) -> str:
    """One sentence: not the unit's own results, what it sums (N sub-units, X of Y) and
    where the other Y - X respondents count."""
    covers = ROLL_UP_COVERS["one" if len(roll_up.sub_units) == 1 else "many"][language]
    others = roll_up.unit_respondents - roll_up.respondents
    rest = ROLL_UP_OTHERS["none" if others == 0 else "one" if others == 1 else "many"][language]
    return " ".join(
        (
            covers.format(
                unit=unit,
                count=len(roll_up.sub_units),
                covered=roll_up.respondents,
                respondents=roll_up.unit_respondents,
            ),
            rest.format(others=others, unit=counted_in),
        )
    )


def comparison(
    other: Results | None,
    names: Mapping[str, str],
    *,
    texts: Texts,
    covered: Mapping[str, Results] | None = None,
) -> Comparison | None:
    """Another unit's factor and item means to compare with: its own when it is published;
    when it is hidden, its roll-up (labelled so) if `covered` holds the units it sums."""
    if isinstance(other, PublishedUnitResults):
        ref = unit_ref(other.unit_id, names)
        return Comparison(
            unit_id=ref.unit_id,
            name=ref.name,
            label=ref.name,
            roll_up=False,
            factors=_factor_means(other.factors),
            items=_item_means(other.items),
        )
    roll_up = shown_roll_up(other, covered, texts=texts) if other is not None else None
    if other is None or roll_up is None:
        return None
    ref = unit_ref(other.unit_id, names)
    return Comparison(
        unit_id=ref.unit_id,
        name=ref.name,
        label=ROLL_UP_COMPARISON[texts.language].format(unit=ref.name),
        roll_up=True,
        factors=_factor_means(roll_up.factors),
        items=_item_means(roll_up.items),
    )


def _factor_means(factors: Sequence[FactorResult]) -> dict[str, float | None]:
    return {f.factor_id: f.mean for f in factors}


def _item_means(items: Sequence[ItemResult]) -> dict[str, float | None]:
    return {i.item_id: i.mean for i in items if isinstance(i, ScaleItemResult)}


def summary(
    results: Results,
    names: Mapping[str, str],
    *,
    covered: Mapping[str, Results] | None = None,
    texts: Texts | None = None,
    parent_id: str | None = None,
    level: str | None = None,
) -> PublishedSummary | SuppressedSummary:
    """One line of the unit list: respondent counts only for published units; a hidden
    unit says whether it has a roll-up (checked against `covered`) and how far it reaches."""
    ref = unit_ref(results.unit_id, names)
    if isinstance(results, SuppressedUnitResults):
        roll_up = shown_roll_up(results, covered, texts=texts or Texts.of(None, "nb"))
        return SuppressedSummary(
            unit_id=ref.unit_id,
            name=ref.name,
            published=False,
            reason=results.reason,
            included_in=unit_ref(results.included_in, names),
            roll_up=(
                RollUpSummary(
                    sub_units=len(roll_up.sub_units),
                    respondents=roll_up.respondents,
                    unit_respondents=roll_up.unit_respondents,
                )
                if roll_up is not None
                else None
            ),
            parent_id=parent_id,
            level=level,
        )
    return PublishedSummary(
        unit_id=ref.unit_id,
        name=ref.name,
        published=True,
        respondents=results.respondents,
        eligible=results.eligible,
        response_rate=response_rate(results.respondents, results.eligible),
        parent_id=parent_id,
        level=level,
    )


def results_view(
    *,
    respondents: int,
    eligible: int,
    factors: Sequence[FactorResult],
    items: Sequence[ItemResult],
    withheld_items: Sequence[str],
    texts: Texts,
) -> ResultsView:
    """Results as a report shows them, the same for a unit's own and for a roll-up: named
    in the language, with the items to follow up and the strengths."""
    reverse = texts.reverse_scored or frozenset()
    scale = [i for i in items if isinstance(i, ScaleItemResult)]
    flagged = set(follow_up_items(scale, reverse_scored=reverse))
    return ResultsView(
        respondents=respondents,
        eligible=eligible,
        response_rate=response_rate(respondents, eligible),
        factors=[
            FactorView(**dict(f), name=texts.factor_names.get(f.factor_id, f.factor_id))
            for f in factors
        ],
        items=[_item_view(i, texts) for i in items],
        withheld_items=list(withheld_items),
        follow_up=[i.item_id for i in scale if i.item_id in flagged],
        strengths=strengths(scale, flagged),
    )


def _item_view(item: ItemResult, texts: Texts) -> ItemView:
    text = texts.item_texts.get(item.item_id, item.item_id)
    if isinstance(item, ScaleItemResult):
        return ScaleItemView(**dict(item), text=text)
    return YesNoItemView(**dict(item), text=text)


def report(
    results: Results,
    *,
    names: Mapping[str, str],
    questionnaire: Questionnaire | None,
    language: str,
    stage: int,
    parent: Results | None = None,
    enterprise: Results | None = None,
    sub_units: Sequence[Results] = (),
    previous: Results | None = None,
    covered: Mapping[str, Results] | None = None,
) -> PublishedUnitReport | SuppressedUnitReport:
    """The report data of one unit. `parent` and `enterprise` are compared with when
    published, and `parent` also by its roll-up when it is hidden; `sub_units` are listed by
    their summaries (no numbers of their own for suppressed ones). `covered` holds the
    results of the units that the roll-ups involved name (this unit's, the parent's, the
    sub-units'): a roll-up is shown only if it is exactly their combination."""
    texts = Texts.of(questionnaire, language)
    if isinstance(results, SuppressedUnitResults):
        return _suppressed_report(results, names=names, texts=texts, stage=stage, covered=covered)
    own = results_view(
        respondents=results.respondents,
        eligible=results.eligible,
        factors=results.factors,
        items=results.items,
        withheld_items=results.withheld_items,
        texts=texts,
    )
    return PublishedUnitReport(
        **dict(own),
        period_id=results.period_id,
        stage=stage,
        language=language,
        unit=unit_ref(results.unit_id, names),
        published=True,
        withheld_items_included_in=(
            unit_ref(results.withheld_items_included_in, names)
            if results.withheld_items_included_in
            else None
        ),
        indicators=list(results.indicators),
        comparisons=Comparisons(
            parent=comparison(parent, names, texts=texts, covered=covered),
            enterprise=(
                comparison(enterprise, names, texts=texts)
                if enterprise is not None and enterprise.unit_id != results.unit_id
                else None
            ),
            previous=comparison(previous, names, texts=texts),
        ),
        sub_units=[summary(s, names, covered=covered, texts=texts) for s in sub_units],
    )


def _suppressed_report(
    results: SuppressedUnitResults,
    *,
    names: Mapping[str, str],
    texts: Texts,
    stage: int,
    covered: Mapping[str, Results] | None,
) -> SuppressedUnitReport:
    unit = unit_ref(results.unit_id, names)
    including = unit_ref(results.included_in, names)
    roll_up = shown_roll_up(results, covered, texts=texts)
    view = None
    if roll_up is not None:
        figures = results_view(
            respondents=roll_up.respondents,
            eligible=roll_up.eligible,
            factors=roll_up.factors,
            items=roll_up.items,
            withheld_items=roll_up.withheld_items,
            texts=texts,
        )
        view = RollUpView(
            **dict(figures),
            label=roll_up_label(
                unit.name, roll_up, counted_in=including.name, language=texts.language
            ),
            sub_units=[unit_ref(u, names) for u in roll_up.sub_units],
            unit_respondents=roll_up.unit_respondents,
            other_respondents=roll_up.unit_respondents - roll_up.respondents,
            other_respondents_counted_in=including,
        )
    return SuppressedUnitReport(
        period_id=results.period_id,
        stage=stage,
        language=texts.language,
        unit=unit,
        published=False,
        reason=results.reason,
        message=REASONS[results.reason][texts.language].format(unit=including.name),
        included_in=including,
        roll_up=view,
    )


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
