"""Pure: is a hidden unit's roll-up exactly the sum of the published cells it names?

A roll-up may show only what its published sub-units' own cells already determine
(`docs/suppression.md`, roll-up views): every count is the sum of theirs, every mean and
share follows from those sums. The aggregation service computes it; this service shows it
only when that holds, so a wrong roll-up (one that took in the hidden unit's own answers,
say) is never shown, however it came about. The check is as strict as the rounding allows:
counts exactly, item statistics to the rounding of one value (they follow from the summed
distribution), factor statistics to the rounding of two (they follow from the sub-units'
rounded values, weighted by how many were scored)."""

from collections.abc import Callable, Mapping, Sequence

from forbedring_contracts.events import (
    FactorResult,
    PublishedUnitResults,
    ScaleDistribution,
    ScaleItemResult,
    SubUnitsRollUp,
    SuppressedUnitResults,
    YesNoItemResult,
)

ROUNDING = 0.005
"""Published statistics are rounded to two decimals."""
_EPSILON = 1e-6
SCALE_OPTIONS = ("strongly_disagree", "disagree", "neither", "agree", "strongly_agree")


def problems(
    roll_up: SubUnitsRollUp,
    covered: Mapping[str, PublishedUnitResults | SuppressedUnitResults],
    *,
    reverse_scored: frozenset[str] | None,
) -> list[str]:
    """What in `roll_up` is not the combination of the cells of the units it names, found
    in `covered`; empty when it is. The problems name fields, never values: a refused
    roll-up's figures may be the hidden unit's own, and the problems may well be logged.
    `reverse_scored`: the period's reverse-scored items, or None when the questionnaire is
    unknown (then either orientation of a mean is taken, both being functions of the same
    published distribution)."""
    if len(set(roll_up.sub_units)) != len(roll_up.sub_units):
        return ["a sub-unit is named twice"]
    subs: list[PublishedUnitResults] = []
    for unit_id in roll_up.sub_units:
        sub = covered.get(unit_id)
        if not isinstance(sub, PublishedUnitResults):
            return [f"{unit_id} is not a published unit"]
        subs.append(sub)
    found: list[str] = []
    _same("respondents", roll_up.respondents, sum(s.respondents for s in subs), found)
    _same("eligible", roll_up.eligible, sum(s.eligible for s in subs), found)
    if roll_up.unit_respondents < roll_up.respondents:
        found.append("covers more respondents than the unit has")
    if len({f.factor_id for f in roll_up.factors}) != len(roll_up.factors):
        found.append("a factor is given twice")
    if len({i.item_id for i in roll_up.items}) != len(roll_up.items):
        found.append("an item is given twice")
    factors = [{f.factor_id: f for f in s.factors} for s in subs]
    items = [{i.item_id: i for i in s.items} for s in subs]
    for factor in roll_up.factors:
        parts = [f[factor.factor_id] for f in factors if factor.factor_id in f]
        if len(parts) != len(subs):
            found.append(f"factor {factor.factor_id}: not published by every sub-unit")
            continue
        _factor(factor, parts, found)
    for item in roll_up.items:
        found_parts = [i[item.item_id] for i in items if item.item_id in i]
        if len(found_parts) != len(subs):
            found.append(f"item {item.item_id}: not published by every sub-unit")
        elif isinstance(item, ScaleItemResult):
            scale = [p for p in found_parts if isinstance(p, ScaleItemResult)]
            if len(scale) != len(subs):
                found.append(f"item {item.item_id}: not a scale item in every sub-unit")
            else:
                _scale_item(item, scale, reverse_scored, found)
        else:
            yes_no = [p for p in found_parts if isinstance(p, YesNoItemResult)]
            if len(yes_no) != len(subs):
                found.append(f"item {item.item_id}: not a yes/no item in every sub-unit")
            else:
                _yes_no_item(item, yes_no, found)
    return found


def _same(what: str, shown: int, summed: int, found: list[str]) -> None:
    if shown != summed:
        found.append(f"{what}: not the sub-units' sum")


def _close(shown: float, expected: Sequence[float], within: float) -> bool:
    return any(abs(shown - value) <= within + _EPSILON for value in expected)


def _factor(factor: FactorResult, parts: Sequence[FactorResult], found: list[str]) -> None:
    scored = sum(p.scored for p in parts)
    _same(f"factor {factor.factor_id} scored", factor.scored, scored, found)
    statistics: tuple[tuple[str, Callable[[FactorResult], float | None]], ...] = (
        ("mean", lambda f: f.mean),
        ("percent_positive", lambda f: f.percent_positive),
    )
    for name, value_of in statistics:
        shown = value_of(factor)
        if shown is None:
            continue
        with_score = [p for p in parts if p.scored]
        values = [value_of(p) for p in with_score]
        if not with_score or any(v is None for v in values):
            found.append(
                f"factor {factor.factor_id} {name}: not determined by the sub-units' "
                "published values"
            )
            continue
        weighted = sum(p.scored * (v or 0.0) for p, v in zip(with_score, values, strict=True))
        if not _close(shown, [weighted / scored], 2 * ROUNDING):
            found.append(f"factor {factor.factor_id} {name}: not their combination")


def _scale_item(
    item: ScaleItemResult,
    parts: Sequence[ScaleItemResult],
    reverse_scored: frozenset[str] | None,
    found: list[str],
) -> None:
    summed = {
        key: sum(getattr(p.distribution, key) for p in parts)
        for key in (*SCALE_OPTIONS, "dont_know")
    }
    for key, total in summed.items():
        _same(f"item {item.item_id} {key}", getattr(item.distribution, key), total, found)
    valid = sum(summed[key] for key in SCALE_OPTIONS)
    _same(f"item {item.item_id} valid", item.valid, valid, found)
    if not valid:
        if item.mean is not None or item.percent_agree is not None:
            found.append(f"item {item.item_id}: statistics without a valid answer")
        return
    if item.mean is not None:
        forward, backward = _means(item.distribution, valid)
        if reverse_scored is None:
            expected = [forward, backward]
        else:
            expected = [backward if item.item_id in reverse_scored else forward]
        if not _close(item.mean, expected, ROUNDING):
            found.append(f"item {item.item_id} mean: does not follow from the sum")
    if item.percent_agree is not None:
        agree = 100 * (summed["agree"] + summed["strongly_agree"]) / valid
        if not _close(item.percent_agree, [agree], ROUNDING):
            found.append(f"item {item.item_id} percent_agree: does not follow from the sum")


def _means(distribution: ScaleDistribution, valid: int) -> tuple[float, float]:
    """The mean on 0-100 of a distribution, as scored and reverse-scored."""
    points = sum(n * getattr(distribution, key) for n, key in enumerate(SCALE_OPTIONS))
    forward = 25 * points / valid
    return forward, 100 - forward


def _yes_no_item(item: YesNoItemResult, parts: Sequence[YesNoItemResult], found: list[str]) -> None:
    yes, no = sum(p.yes for p in parts), sum(p.no for p in parts)
    _same(f"item {item.item_id} yes", item.yes, yes, found)
    _same(f"item {item.item_id} no", item.no, no, found)
    if item.percent_yes is None:
        return
    if not yes + no or not _close(item.percent_yes, [100 * yes / (yes + no)], ROUNDING):
        found.append(f"item {item.item_id} percent_yes: does not follow from the sum")
