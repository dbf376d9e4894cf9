"""SAQ scoring and the counter vectors: exact, order-independent, checked against a
straightforward float computation."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from forbedring_aggregation.domain.scoring import (
    SENSITIVE_RESPONDENTS,
    ItemSpec,
    Layout,
    factor_counts,
    factor_score,
    item_counts,
    item_points,
    mean_factor_score,
    mean_item_score,
    sum_vectors,
    tally,
)

LAYOUT = Layout(
    items=(
        ItemSpec("sc1", "scale", "safety_climate", reverse_scored=False, sensitive=False),
        ItemSpec("sc2", "scale", "safety_climate", reverse_scored=True, sensitive=False),
        ItemSpec("sc3", "scale", "safety_climate", reverse_scored=False, sensitive=False),
        ItemSpec("tw1", "scale", "teamwork", reverse_scored=False, sensitive=False),
        ItemSpec("free", "scale", None, reverse_scored=False, sensitive=False),
        ItemSpec("bully", "yes_no", None, reverse_scored=False, sensitive=True),
    ),
    factors=("safety_climate", "teamwork"),
)

answer = st.one_of(st.integers(1, 5), st.just("dont_know"), st.none())


def test_item_points_flip_reverse_scored_items() -> None:
    assert [item_points(a, reverse_scored=False) * 25 for a in range(1, 6)] == [0, 25, 50, 75, 100]
    assert [item_points(a, reverse_scored=True) * 25 for a in range(1, 6)] == [100, 75, 50, 25, 0]


def test_a_factor_score_is_the_mean_of_answered_non_dont_know_items() -> None:
    vector = tally(LAYOUT, {"sc1": 5, "sc2": 2, "sc3": "dont_know", "tw1": 3})
    sc = factor_counts(LAYOUT, vector, "safety_climate")
    # sc1 = 100, sc2 (reverse, 2) = 75, sc3 don't know: mean 87.5 -> positive
    assert sc.scored == 1
    assert sc.positive == 1
    assert mean_factor_score(LAYOUT, sc) == 87.5
    tw = factor_counts(LAYOUT, vector, "teamwork")
    assert (tw.scored, tw.positive, mean_factor_score(LAYOUT, tw)) == (1, 0, 50.0)


def test_a_respondent_with_only_dont_know_has_no_factor_score() -> None:
    vector = tally(LAYOUT, {"sc1": "dont_know", "sc2": "dont_know"})
    assert factor_counts(LAYOUT, vector, "safety_climate").scored == 0
    assert item_counts(LAYOUT, vector, "sc1").dont_know == 1


def test_score_exactly_75_is_positive() -> None:
    # 4, 4, 4 -> 75; 5, 4, 3 -> 75; 5, 3, 3 -> 66.7
    for answers, positive in (((4, 4, 4), 1), ((5, 4, 3), 1), ((5, 3, 3), 0)):
        vector = tally(LAYOUT, {"sc1": answers[0], "sc2": 6 - answers[1], "sc3": answers[2]})
        assert factor_counts(LAYOUT, vector, "safety_climate").positive == positive


def test_sensitive_respondents_and_yes_no_counts() -> None:
    vector = tally(LAYOUT, {"bully": "yes", "free": 4})
    assert vector[SENSITIVE_RESPONDENTS] == 1
    assert item_counts(LAYOUT, vector, "bully").yes == 1
    assert tally(LAYOUT, {"free": 4})[SENSITIVE_RESPONDENTS] == 0


def test_unknown_items_and_odd_answers_are_ignored() -> None:
    assert tally(LAYOUT, {"nope": 3, "sc1": True}) == LAYOUT.zeros()


@given(st.lists(st.fixed_dictionaries({"sc1": answer, "sc2": answer, "sc3": answer})))
def test_counters_match_a_direct_computation_in_any_order(
    responses: list[dict[str, object]],
) -> None:
    answers = [{k: v for k, v in r.items() if v is not None} for r in responses]
    total = sum_vectors(LAYOUT, (tally(LAYOUT, a) for a in answers))
    reverse = sum_vectors(LAYOUT, (tally(LAYOUT, a) for a in reversed(answers)))
    assert total == reverse
    scores = []
    for a in answers:
        points = [
            item_points(v, reverse_scored=item == "sc2")
            for item, v in sorted(a.items())
            if isinstance(v, int)
        ]
        score = factor_score(points)
        if score is not None:
            scores.append(Fraction(25 * sum(points), len(points)))
    sc = factor_counts(LAYOUT, total, "safety_climate")
    assert sc.scored == len(scores)
    assert sc.positive == sum(1 for s in scores if s >= 75)
    if scores:
        expected = sum(scores) / len(scores)
        assert Fraction(25 * sc.score_sum, LAYOUT.unit * sc.scored) == expected
        assert mean_factor_score(LAYOUT, sc) == round(float(expected), 2)
    counts = item_counts(LAYOUT, total, "sc2")
    valid = [a["sc2"] for a in answers if isinstance(a.get("sc2"), int)]
    assert counts.valid_scale == len(valid)
    if valid:
        expected_mean = sum(100 - (v - 1) * 25 for v in valid if isinstance(v, int)) / len(valid)
        assert mean_item_score(counts, reverse_scored=True) == round(expected_mean, 2)


WIDE = Layout(
    items=tuple(
        ItemSpec(f"f{f}i{i}", "scale", f"f{f}", reverse_scored=i % 3 == 0, sensitive=False)
        for f in range(3)
        for i in range(12)
    ),
    factors=("f0", "f1", "f2"),
)


@given(
    st.lists(
        st.one_of(st.integers(1, 5), st.just("dont_know"), st.none()), min_size=36, max_size=36
    )
)
def test_full_factors_sum_their_points_without_spilling_into_the_next(
    answers: list[int | str | None],
) -> None:
    """Factors of the most items (12, all answered 5: the largest points sum) are scored
    exactly, each on its own, although a response's points are summed in packed fields."""
    given_answers = {
        item.item_id: a for item, a in zip(WIDE.items, answers, strict=True) if a is not None
    }
    vector = tally(WIDE, given_answers)
    for f in range(3):
        points = [
            item_points(a, reverse_scored=item.reverse_scored)
            for item, a in zip(WIDE.items, answers, strict=True)
            if item.factor_id == f"f{f}" and isinstance(a, int)
        ]
        counts = factor_counts(WIDE, vector, f"f{f}")
        if not points:
            assert counts == type(counts)(0, 0, 0)
            continue
        assert counts.scored == 1
        assert Fraction(25 * counts.score_sum, WIDE.unit) == Fraction(25 * sum(points), len(points))
        assert counts.positive == (25 * sum(points) >= 75 * len(points))


def test_every_answer_of_every_item_at_its_maximum() -> None:
    vector = tally(WIDE, {item.item_id: 1 if item.reverse_scored else 5 for item in WIDE.items})
    for f in range(3):
        assert factor_counts(WIDE, vector, f"f{f}") == type(factor_counts(WIDE, vector, "f0"))(
            1, 4 * WIDE.unit, 1
        )
