"""The compiled counting (`_tally.pyx`, what the service runs) against its definition in
Python (`scoring.tally_into_python`), on any answers: valid, of the wrong kind, or to
items the questionnaire does not have."""

from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forbedring_aggregation.domain import _tally
from forbedring_aggregation.domain.scoring import (
    ItemSpec,
    Layout,
    tally_into,
    tally_into_python,
)

items = st.builds(
    ItemSpec,
    item_id=st.sampled_from([f"q{i}" for i in range(12)]),
    kind=st.sampled_from(["scale", "yes_no"]),
    factor_id=st.sampled_from(["f0", "f1", "f2", None]),
    reverse_scored=st.booleans(),
    sensitive=st.booleans(),
)
layouts = st.lists(items, min_size=1, max_size=12, unique_by=lambda item: item.item_id).map(
    lambda found: Layout(items=tuple(found), factors=("f0", "f1", "f2"))
)
values = st.one_of(
    st.integers(1, 5),
    st.sampled_from(["dont_know", "yes", "no"]),
    # not answers: out of range, of the wrong kind, equal to an answer as a key
    st.integers(-3, 9),
    st.integers(min_value=2**63),
    st.booleans(),
    st.sampled_from([1.0, 3.0, None, "3", "maybe", "YES", ""]),
)
answers = st.dictionaries(st.sampled_from([f"q{i}" for i in range(14)]), values, max_size=14)


def test_the_service_runs_the_compiled_counting() -> None:
    assert tally_into is _tally.tally_into


@given(layouts, st.lists(answers, max_size=6))
def test_compiled_and_python_counting_agree(
    layout: Layout, responses: list[dict[str, object]]
) -> None:
    compiled, python = layout.zeros(), layout.zeros()
    for response in responses:
        tally_into(compiled, layout, response)
        tally_into_python(python, layout, response)
    assert compiled == python


def test_a_questionnaire_with_more_factors_than_the_compiled_arrays_hold_is_counted_too() -> None:
    factors = tuple(f"f{i}" for i in range(70))
    layout = Layout(
        items=tuple(ItemSpec(f"q{i}", "scale", f, False, False) for i, f in enumerate(factors)),
        factors=factors,
    )
    response = {f"q{i}": 1 + i % 5 for i in range(70)}
    compiled, python = layout.zeros(), layout.zeros()
    tally_into(compiled, layout, response)
    tally_into_python(python, layout, response)
    assert compiled == python
    assert sum(compiled[layout.factor_base["f69"] :]) > 0


def test_answers_in_a_mapping_other_than_a_dict_are_counted_too() -> None:
    layout = Layout(items=(ItemSpec("q0", "scale", "f0", False, False),), factors=("f0",))
    compiled, python = layout.zeros(), layout.zeros()
    tally_into(compiled, layout, MappingProxyType({"q0": 4}))
    tally_into_python(python, layout, {"q0": 4})
    assert compiled == python != layout.zeros()


def test_a_vector_of_another_layout_is_refused_not_written_past_its_end() -> None:
    layout = Layout(items=(ItemSpec("q0", "scale", "f0", False, False),), factors=("f0",))
    with pytest.raises(ValueError, match="counters"):
        tally_into([0] * (layout.size - 1), layout, {"q0": 5})
