"""The snapshot from counters: suppressed units carry no numbers, thresholds per item and
factor, the sensitive table, indicators, determinism."""

import json

import pytest

from forbedring_aggregation.domain.scoring import ItemSpec, Layout, sum_vectors, tally
from forbedring_aggregation.domain.snapshot import (
    AGREE_INDICATOR,
    SAQ_INDICATOR,
    IndicatorSettings,
    NothingPublishableError,
    PeriodUnit,
    UnitCounters,
    build_snapshot,
)
from forbedring_contracts.events import (
    PublishedUnitResults,
    ScaleItemResult,
    SuppressedUnitResults,
    YesNoItemResult,
)

LAYOUT = Layout(
    items=(
        ItemSpec("sc1", "scale", "safety_climate", reverse_scored=False, sensitive=False),
        ItemSpec("sc2", "scale", "safety_climate", reverse_scored=True, sensitive=False),
        ItemSpec("bully", "yes_no", None, reverse_scored=False, sensitive=True),
    ),
    factors=("safety_climate",),
)
# T2 of docs/suppression.md's cases: P(20) -> A(15), B(3), C(2)
UNITS = [
    PeriodUnit("P", None, 0),
    PeriodUnit("A", "P", 16),
    PeriodUnit("B", "P", 4),
    PeriodUnit("C", "P", 3),
]


def counters(answers_per_unit: dict[str, list[dict[str, object]]]) -> dict[str, UnitCounters]:
    return {
        unit: UnitCounters(len(answers), sum_vectors(LAYOUT, (tally(LAYOUT, a) for a in answers)))
        for unit, answers in answers_per_unit.items()
    }


def snapshot(answers: dict[str, list[dict[str, object]]], **overrides: object) -> list:  # type: ignore[type-arg]
    arguments: dict[str, object] = {
        "period_id": "2026",
        "units": UNITS,
        "layout": LAYOUT,
        "k": 5,
        "sensitive_k": 10,
        "counters": counters(answers),
        "indicators": IndicatorSettings(),
    }
    arguments.update(overrides)
    return build_snapshot(**arguments)  # type: ignore[arg-type]


AGREEING: dict[str, object] = {"sc1": 5, "sc2": 1, "bully": "no"}
SPLIT: dict[str, object] = {"sc1": 2, "sc2": "dont_know"}


def test_t2_publishes_p_and_a_and_suppressed_units_say_only_where_they_are_included() -> None:
    results = snapshot({"A": [AGREEING] * 15, "B": [SPLIT] * 3, "C": [SPLIT] * 2})
    by_unit = {r.unit_id: r for r in results}
    assert [r.unit_id for r in results] == ["A", "B", "C", "P"]
    assert isinstance(by_unit["P"], PublishedUnitResults)
    assert isinstance(by_unit["A"], PublishedUnitResults)
    for unit in ("B", "C"):
        suppressed = by_unit[unit]
        assert isinstance(suppressed, SuppressedUnitResults)
        assert suppressed.included_in == "P"
        assert suppressed.reason == "too_few_respondents"
        body = json.loads(suppressed.model_dump_json())
        assert set(body) == {"published", "period_id", "unit_id", "reason", "included_in"}
    p = by_unit["P"]
    assert isinstance(p, PublishedUnitResults)
    assert p.respondents == 20
    assert p.eligible == 23
    sc1 = p.items[0]
    assert isinstance(sc1, ScaleItemResult)
    assert sc1.distribution.strongly_agree == 15
    assert sc1.distribution.disagree == 5
    assert sc1.valid == 20
    assert sc1.mean == 81.25  # (15 * 100 + 5 * 25) / 20
    assert sc1.percent_agree == 75.0
    sc2 = p.items[1]
    assert isinstance(sc2, ScaleItemResult)
    assert sc2.valid == 15
    assert sc2.distribution.dont_know == 5
    factor = p.factors[0]
    assert factor.scored == 20
    assert factor.percent_positive == 75.0
    assert factor.mean == 81.25  # 15 x 100, 5 x 25
    indicators = {i.indicator_id: i for i in p.indicators}
    # favourable safety-climate answers: 15 (sc1) + 15 (sc2 reverse, answered 1) of 35 valid
    assert indicators[AGREE_INDICATOR].value == round(100 * 30 / 35, 2)
    assert indicators[AGREE_INDICATOR].met is True
    assert indicators[SAQ_INDICATOR].value == 75.0
    assert indicators[SAQ_INDICATOR].threshold == 60.0


def test_sensitive_items_use_their_own_table_and_threshold() -> None:
    results = snapshot({"A": [AGREEING] * 9, "B": [AGREEING] * 3, "C": [SPLIT] * 2})
    by_unit = {r.unit_id: r for r in results}
    p, a = by_unit["P"], by_unit["A"]
    assert isinstance(p, PublishedUnitResults)
    assert isinstance(a, PublishedUnitResults)
    # 12 answered the sensitive item in P (>= 10), 9 in A (< 10): A withholds it
    assert a.withheld_items == ("bully",)
    assert a.withheld_items_included_in == "P"
    assert [i.item_id for i in a.items] == ["sc1", "sc2"]
    bully = p.items[2]
    assert isinstance(bully, YesNoItemResult)
    assert (bully.yes, bully.no, bully.percent_yes) == (0, 12, 0.0)


def test_item_statistics_need_k_valid_answers() -> None:
    only_dont_know: dict[str, object] = {"sc1": "dont_know", "sc2": "dont_know"}
    results = snapshot({"A": [only_dont_know] * 12 + [AGREEING] * 4, "B": [], "C": []})
    p = {r.unit_id: r for r in results}["P"]
    assert isinstance(p, PublishedUnitResults)
    sc1 = p.items[0]
    assert isinstance(sc1, ScaleItemResult)
    assert (sc1.valid, sc1.mean, sc1.percent_agree) == (4, None, None)
    assert p.factors[0].mean is None
    assert {i.met for i in p.indicators} == {None}


def test_nothing_publishable_below_k_in_all() -> None:
    with pytest.raises(NothingPublishableError):
        snapshot({"A": [AGREEING] * 4})


def test_the_same_counters_give_the_same_bytes() -> None:
    answers = {"A": [AGREEING] * 7 + [SPLIT] * 8, "B": [SPLIT] * 6, "C": [AGREEING] * 2}
    first = [r.model_dump_json() for r in snapshot(answers)]
    again = [r.model_dump_json() for r in snapshot(dict(reversed(answers.items())))]
    assert first == again
