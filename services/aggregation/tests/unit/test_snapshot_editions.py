"""The two editions in a snapshot: a first-edition snapshot is rebuilt byte for byte
(its bytes, made by the first edition's own code, are kept in `data/`), and a
second-edition one gives hidden units roll-ups that equal the exact combination of the
published cells they cover."""

import json
from pathlib import Path

from forbedring_aggregation.domain.scoring import ItemSpec, Layout, sum_vectors, tally
from forbedring_aggregation.domain.snapshot import (
    IndicatorSettings,
    PeriodUnit,
    UnitCounters,
    build_snapshot,
)
from services.aggregation.tests.unit.test_suppression_second_edition import HOSPITAL

# A hospital in miniature (T10 of the second edition, with a small team T): every
# clinic and section has its leader answering directly for it.
LAYOUT = Layout(
    items=(
        ItemSpec("sc1", "scale", "safety_climate", reverse_scored=False, sensitive=False),
        ItemSpec("sc2", "scale", "safety_climate", reverse_scored=True, sensitive=False),
        ItemSpec("wl1", "scale", "workload", reverse_scored=False, sensitive=False),
        ItemSpec("bully", "yes_no", None, reverse_scored=False, sensitive=True),
    ),
    factors=("safety_climate", "workload"),
)
TREE = [*HOSPITAL, ("T", "C2", 3)]
PATTERNS: list[dict[str, object]] = [
    {"sc1": 5, "sc2": 1, "wl1": 4, "bully": "no"},
    {"sc1": 2, "sc2": "dont_know", "wl1": 2, "bully": "yes"},
    {"sc1": 4, "sc2": 2, "wl1": "dont_know"},
    {"sc1": 3, "sc2": 4, "wl1": 5, "bully": "no"},
    {"sc1": "dont_know", "wl1": 1},
]


def example_counters() -> dict[str, UnitCounters]:
    """Each unit's respondents answer the patterns in turn, from an offset of its own."""
    out = {}
    for index, (unit, _, respondents) in enumerate(TREE):
        answers = [PATTERNS[(index + i) % len(PATTERNS)] for i in range(respondents)]
        out[unit] = UnitCounters(
            respondents, sum_vectors(LAYOUT, (tally(LAYOUT, a) for a in answers))
        )
    return out


def example_arguments() -> dict[str, object]:
    return {
        "period_id": "2025",
        "units": [PeriodUnit(unit, parent, 2 * n + 1) for unit, parent, n in TREE],
        "layout": LAYOUT,
        "k": 5,
        "sensitive_k": 10,
        "counters": example_counters(),
        "indicators": IndicatorSettings(),
    }


# --- end of the example (the first edition's own code made data/ from it, with the
# hospital tree then written out here)

from forbedring_aggregation.domain.suppression import SuppressionMethod  # noqa: E402
from forbedring_contracts.events import (  # noqa: E402
    PublishedUnitResults,
    ScaleItemResult,
    SuppressedUnitResults,
    YesNoItemResult,
    results_checksum,
)

FIRST_EDITION = Path(__file__).parent / "data" / "first_edition_snapshot.json"


def first_edition_values() -> dict[str, bytes]:
    stored = json.loads(FIRST_EDITION.read_text(encoding="utf-8"))
    return {unit: value.encode() for unit, value in stored["values"].items()}


def test_a_first_edition_snapshot_is_rebuilt_byte_for_byte() -> None:
    stored = json.loads(FIRST_EDITION.read_text(encoding="utf-8"))
    results = build_snapshot(**example_arguments(), method=SuppressionMethod.GREEDY_V1)  # type: ignore[arg-type]
    values = [(r.unit_id, r.model_dump_json().encode()) for r in results]
    assert dict(values) == first_edition_values()
    assert results_checksum(values) == stored["checksum"]


def test_the_second_edition_keeps_the_teams_the_first_hid() -> None:
    first = {u for u, v in first_edition_values().items() if b'"published":false' in v}
    second = {r.unit_id for r in build_snapshot(**example_arguments()) if not r.published}  # type: ignore[arg-type]
    leaves = {"A", "B", "E", "F", "G", "H", "T"}
    assert first & leaves == {"A", "F", "H", "T"}
    # Only T (3 answered) is a hidden team now; the leaders' units are hidden instead.
    assert second & leaves == {"T"}
    assert second == {"C1", "S1", "S2", "C2", "T"}


def by_unit() -> dict[str, PublishedUnitResults | SuppressedUnitResults]:
    return {r.unit_id: r for r in build_snapshot(**example_arguments())}  # type: ignore[arg-type]


def test_each_hidden_unit_says_why_and_where_its_answers_count() -> None:
    results = by_unit()
    for unit in ("C1", "S1", "S2", "C2"):
        hidden = results[unit]
        assert isinstance(hidden, SuppressedUnitResults)
        assert hidden.reason == "direct_answers_too_few"
        assert hidden.included_in == "R"
    team = results["T"]
    assert isinstance(team, SuppressedUnitResults)
    assert (team.reason, team.included_in, team.roll_up) == ("too_few_respondents", "R", None)
    assert b"roll_up" not in team.model_dump_json().encode(), "absent, not null"


def test_a_roll_up_is_the_exact_combination_of_the_published_cells_it_covers() -> None:
    results = by_unit()
    clinic = results["C1"]
    assert isinstance(clinic, SuppressedUnitResults)
    roll_up = clinic.roll_up
    assert roll_up is not None
    assert roll_up.sub_units == ("A", "B", "E", "F")
    cells = [results[z] for z in roll_up.sub_units]
    assert all(isinstance(c, PublishedUnitResults) for c in cells)
    published = [c for c in cells if isinstance(c, PublishedUnitResults)]
    assert roll_up.respondents == sum(c.respondents for c in published) == 97
    assert roll_up.unit_respondents == 100  # the other 3 are the leaders, counted in R
    assert roll_up.eligible == sum(c.eligible for c in published)
    for index, item in enumerate(roll_up.items):
        parts = [c.items[index] for c in published]
        if isinstance(item, ScaleItemResult):
            scale = [p for p in parts if isinstance(p, ScaleItemResult)]
            summed = {
                option: sum(getattr(p.distribution, option) for p in scale)
                for option in type(item.distribution).model_fields
            }
            assert item.distribution.model_dump() == summed
            assert item.valid == sum(p.valid for p in scale)
            reverse = item.item_id == "sc2"
            assert item.mean == _mean(summed, reverse=reverse)
        else:
            assert isinstance(item, YesNoItemResult)
            yes_no = [p for p in parts if isinstance(p, YesNoItemResult)]
            assert (item.yes, item.no) == (sum(p.yes for p in yes_no), sum(p.no for p in yes_no))
    for index, factor in enumerate(roll_up.factors):
        parts_f = [c.factors[index] for c in published]
        assert factor.scored == sum(p.scored for p in parts_f)
        assert factor.mean is not None
        weighted = sum((p.mean or 0.0) * p.scored for p in parts_f) / factor.scored
        assert abs(factor.mean - weighted) <= 0.01, "within the published cells' rounding"


def _mean(distribution: dict[str, int], *, reverse: bool) -> float:
    points = {"strongly_disagree": 0, "disagree": 25, "neither": 50, "agree": 75}
    points["strongly_agree"] = 100
    total = valid = 0
    for option, value in points.items():
        count = distribution[option]
        total += (100 - value if reverse else value) * count
        valid += count
    return round(total / valid, 2)


def test_a_roll_up_withholds_a_factor_mean_that_a_small_sub_unit_would_leak() -> None:
    """If a covered sub-unit publishes no factor mean (fewer than k scored), the roll-up's
    mean minus the others' would be that sub-unit's: the roll-up withholds it."""
    arguments = example_arguments()
    counters = dict(arguments["counters"])  # type: ignore[call-overload]
    # Only 3 of E's 25 respondents answer the workload item.
    answers = [{"sc1": 4, "sc2": 2}] * 22 + [{"sc1": 4, "sc2": 2, "wl1": 5}] * 3
    counters["E"] = UnitCounters(25, sum_vectors(LAYOUT, (tally(LAYOUT, a) for a in answers)))
    arguments["counters"] = counters
    results = {r.unit_id: r for r in build_snapshot(**arguments)}  # type: ignore[arg-type]
    e, s2 = results["E"], results["S2"]
    assert isinstance(e, PublishedUnitResults)
    assert isinstance(s2, SuppressedUnitResults)
    assert s2.roll_up is not None
    workload = {f.factor_id: f for f in e.factors}["workload"]
    assert (workload.scored, workload.mean) == (3, None)
    rolled = {f.factor_id: f for f in s2.roll_up.factors}
    assert rolled["workload"].mean is None
    assert rolled["workload"].percent_positive is None
    assert rolled["safety_climate"].mean is not None
