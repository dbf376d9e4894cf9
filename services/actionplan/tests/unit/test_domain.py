"""The pure rules: focus areas, access, deadlines, the checklist and status, indicators;
and the suggestion files (the same factors and as many suggestions in nb, nn and en)."""

from datetime import date

from forbedring_actionplan.domain import deadlines, focus, indicators, quality
from forbedring_actionplan.domain.access import access, ancestors, descendants
from forbedring_actionplan.suggestions import Suggestions
from forbedring_contracts.events import SuppressedUnitResults
from services.actionplan.tests.org import an_org

PARENTS = {"HF": None, "K": "HF", "S": "K", "T": "K", "K2": "HF"}


def test_focus_areas_own_roll_up_ancestor_and_none() -> None:
    org = an_org()
    results = {r.unit_id: r for r in org.results}
    parents = {u.unit_id: u.parent_id for u in org.opened.units}
    factors = {i.item_id: i.factor_id for i in org.opened.questionnaire.items}
    reverse = frozenset({"wc1"})

    def suggest(unit: str, given: dict[str, focus.Results] = results) -> focus.Suggestion:
        return focus.suggest(
            unit, results=given, parents=parents, reverse_scored=reverse, factors=factors
        )

    own = suggest("S-PUB")
    assert own.source == "own"
    # wc1 is reverse-scored: only its mean counts (70 < 75), its 20 % agreeing does not.
    assert [(a.ref_id, a.kind) for a in own.areas] == [
        ("sc1", "follow_up"),
        ("wc1", "follow_up"),
        ("sc2", "strength"),
        ("wc2", "strength"),
    ]
    assert own.areas[1].factor_id == "working_conditions"
    assert (suggest("S-SMALL").source, suggest("S-SMALL").source_unit_id) == ("ancestor", "K")
    assert (suggest("K2").source, suggest("K2").source_unit_id) == ("roll_up", "K2")
    # A hidden unit whose ancestors are hidden too reaches up to the first published one.
    hidden_k = {
        **results,
        "K": SuppressedUnitResults(
            published=False,
            period_id=org.period_id,
            unit_id="K",
            reason="protects_smaller_unit",
            included_in="HF",
        ),
    }
    assert suggest("S-SMALL", hidden_k).source_unit_id == "HF"
    assert suggest("X", {}).source == "none"


def test_who_may_do_what_with_a_plan() -> None:
    def as_(
        roles: set[tuple[str, str]], unit: str = "S", stage: int = 1
    ) -> tuple[bool, bool, bool, str]:
        a = access(unit, roles=roles, parents=PARENTS, released_stage=stage)
        return a.read, a.edit, a.comment, a.as_

    assert as_({("S", "leader")}) == (True, True, True, "leader")
    assert as_({("HF", "leader")}) == (True, True, True, "leader_above")
    assert as_({("T", "leader")}) == (False, False, False, "none")
    assert as_({("S", "safety_rep")}) == (True, False, True, "representative")
    assert as_({("K", "union_rep")}) == (False, False, False, "none")
    assert as_({("HF", "hr_admin")}) == (True, False, False, "hr_admin")
    assert as_({("S", "member")}, stage=1) == (False, False, False, "none")
    assert as_({("S", "member")}, stage=2) == (True, False, False, "employee")
    assert as_({("T", "member")}, stage=2) == (False, False, False, "none")
    assert as_(set()) == (False, False, False, "none")
    assert ancestors("S", PARENTS) == ["K", "HF"]
    assert ancestors("A", {"A": "B", "B": "A"}) == ["B"], "a cycle ends the walk"
    assert descendants({"K"}, PARENTS) == ["S", "T"]


def test_the_most_urgent_threshold_reached() -> None:
    deadline = date(2027, 6, 30)
    assert deadlines.due(deadline, date(2027, 5, 30)) is None
    assert deadlines.due(deadline, date(2027, 5, 31)) == 30
    assert deadlines.due(deadline, date(2027, 6, 16)) == 14
    assert deadlines.due(deadline, date(2027, 6, 20)) == 14
    assert deadlines.due(deadline, date(2027, 6, 23)) == 7
    assert deadlines.due(deadline, date(2027, 6, 29)) == 1
    assert deadlines.due(deadline, date(2027, 6, 30)) == 1
    assert deadlines.due(deadline, date(2027, 7, 1)) == 0
    assert deadlines.passed_with(7) == (30, 14, 7)
    assert deadlines.passed_with(0) == (30, 14, 7, 1, 0)
    # Set 20 days ahead: the 30-day reminder's day is behind it, the 14-day one's is not.
    assert deadlines.already_behind(deadline, date(2027, 6, 10)) == (30,)
    assert deadlines.already_behind(deadline, date(2027, 5, 31)) == ()


def test_the_checklist_and_status() -> None:
    good = quality.MeasureFacts(
        responsible=True, deadline=True, desired_effect=True, linked_id="sc1", status="planned"
    )
    assert quality.missing(staff_discussed=True, measures=[good], focus_refs={"sc1"}) == []
    assert quality.missing(staff_discussed=False, measures=[], focus_refs={"sc1"}) == [
        "staff_discussion",
        "measures",
        "measure_linked_to_focus_area",
    ]
    bare = quality.MeasureFacts(
        responsible=False, deadline=False, desired_effect=False, linked_id=None, status="planned"
    )
    assert quality.missing(staff_discussed=True, measures=[good, bare], focus_refs={"sc1"}) == [
        "measure_responsible",
        "measure_deadline",
        "measure_desired_effect",
    ]
    cancelled = quality.MeasureFacts(
        responsible=False, deadline=False, desired_effect=False, linked_id=None, status="cancelled"
    )
    assert (
        quality.missing(staff_discussed=True, measures=[good, cancelled], focus_refs={"sc1"}) == []
    )
    assert quality.missing(staff_discussed=True, measures=[good], focus_refs={"wc1"}) == [
        "measure_linked_to_focus_area"
    ]
    assert quality.status(version=0, measure_statuses=["done"]) == "draft"
    assert quality.status(version=1, measure_statuses=["done", "planned"]) == "active"
    assert quality.status(version=1, measure_statuses=["done", "cancelled"]) == "completed"


def test_indicators_per_level_and_enterprise_against_targets() -> None:
    units = [
        indicators.UnitFacts("A", "3", has_plan=True, complete_of_quality=True),
        indicators.UnitFacts("B", "3", has_plan=True, complete_of_quality=False),
        indicators.UnitFacts("K", "2", has_plan=False, complete_of_quality=False),
    ]
    measures = [
        indicators.MeasureOutcome("3", "done", date(2027, 5, 1), date(2027, 4, 30)),
        indicators.MeasureOutcome("3", "done", date(2027, 5, 1), date(2027, 5, 2)),
        indicators.MeasureOutcome("3", "planned", date(2027, 5, 1), None),
        indicators.MeasureOutcome("3", "planned", date(2027, 9, 1), None),  # not due yet
        indicators.MeasureOutcome("3", "cancelled", date(2027, 5, 1), None),
    ]
    targets = {"with_plan": 100.0, "complete_of_quality": 50.0, "measures_done_by_deadline": 100.0}
    rows = {
        (r.indicator, r.level): r
        for r in indicators.indicators(units, measures, today=date(2027, 6, 1), targets=targets)
    }
    assert (rows["with_plan", "enterprise"].count, rows["with_plan", "enterprise"].of) == (2, 3)
    assert rows["with_plan", "3"].share == 100.0
    assert rows["with_plan", "3"].target_met is True
    assert rows["complete_of_quality", "3"].target_met is True
    assert (
        rows["measures_done_by_deadline", "3"].count,
        rows["measures_done_by_deadline", "3"].of,
    ) == (1, 3)
    assert rows["measures_done_by_deadline", "2"].share is None


def test_suggestions_in_three_languages_for_every_factor() -> None:
    loaded = Suggestions.load()
    factors = {language: set(s) for language, s in loaded.by_language.items()}
    assert factors["nb"] == factors["nn"] == factors["en"]
    assert {"safety_climate", "working_conditions", "engagement"} <= factors["nb"]
    for factor in factors["nb"]:
        counts = {len(loaded.for_factor(factor, lang)) for lang in ("nb", "nn", "en")}
        assert len(counts) == 1
        assert counts != {0}
