"""A hidden unit's roll-up: shown only when it is exactly the combination of the published
cells it covers, always labelled as not the unit's own results, and compared with as
such; any roll-up that is not that combination (one that took in the unit's own answers,
say) is not shown at all."""

import re
from collections.abc import Callable
from typing import Any

import pytest

from forbedring_contracts.events import (
    Factor,
    FactorResult,
    PublishedUnitResults,
    Questionnaire,
    ScaleItemResult,
    SubUnitsRollUp,
    SuppressedUnitResults,
    Texts,
    YesNoItemResult,
)
from forbedring_contracts.examples import hidden
from forbedring_publication.domain import report, roll_up
from forbedring_publication.pages import ROLL_UP_MARK, export_rows
from forbedring_publication.schemas import PublishedUnitReport, SuppressedUnitReport
from services.publication.tests.answers import Respondent, Spec, published
from services.publication.tests.answers import roll_up as roll_up_of

PERIOD = "2026"
SPECS = (
    Spec("sc1"),
    Spec("sc2", reverse_scored=True),
    Spec("tw1", factor_id="tw"),
    Spec("bully", kind="yes_no", factor_id=None),
)
QUESTIONNAIRE = Questionnaire(
    factors=(
        Factor(factor_id="sc", name=Texts(nb="Sikkerhet", nn="Tryggleik", en="Safety")),
        Factor(factor_id="tw", name=Texts(nb="Samarbeid", nn="Samarbeid", en="Teamwork")),
    ),
    items=tuple(s.item() for s in SPECS),
)
NAMES = {
    "HF": "Helse HF",
    "K2": "Rehabiliteringsklinikken",
    "A": "Sengepost A",
    "B": "Sengepost B",
    "C": "Dagpost",
}


def people(*rows: tuple[Any, Any, Any, Any]) -> list[Respondent]:
    return [
        {
            item: answer
            for item, answer in zip(("sc1", "sc2", "tw1", "bully"), row, strict=True)
            if answer is not None
        }
        for row in rows
    ]


A = people(
    (4, 2, 5, "no"), (5, 1, 4, "no"), (3, 2, 4, "yes"), (4, 4, "dont_know", "no"),
    (2, 3, 5, "no"), (5, 1, 3, None), (4, "dont_know", 4, "no"),
)  # fmt: skip
B = people(
    (5, 2, 4, "no"), (4, 1, 5, "no"), (1, 5, 2, "yes"), (4, 2, 4, "no"), (3, 3, 3, "no"),
)  # fmt: skip
OWN = people((2, 4, 1, "yes"), (1, 5, 2, "yes"))  # K2's own atom: in no published sub-unit


def results() -> dict[str, PublishedUnitResults | SuppressedUnitResults]:
    """K2 hidden (its own answers too few) over A and B (published) and C (hidden)."""
    k2 = hidden(
        PERIOD,
        "K2",
        reason="direct_answers_too_few",
        included_in="HF",
        roll_up=roll_up_of(
            {"A": A, "B": B},
            eligible=9 + 6,
            unit_respondents=len(A) + len(B) + len(OWN),
            specs=SPECS,
        ),
    )
    hidden_c = hidden(PERIOD, "C", reason="too_few_respondents", included_in="HF")
    return {
        "K2": k2,
        "A": published(PERIOD, "A", A, eligible=9, specs=SPECS),
        "B": published(PERIOD, "B", B, eligible=6, specs=SPECS),
        "C": hidden_c,
    }


def hidden_report(
    loaded: dict[str, PublishedUnitResults | SuppressedUnitResults], language: str = "en"
) -> SuppressedUnitReport:
    data = report.report(
        loaded["K2"],
        names=NAMES,
        questionnaire=QUESTIONNAIRE,
        language=language,
        stage=1,
        covered=loaded,
    )
    assert isinstance(data, SuppressedUnitReport)
    return data


def test_the_roll_up_shown_is_the_exact_sum_of_the_published_cells_it_covers() -> None:
    loaded = results()
    a, b = loaded["A"], loaded["B"]
    assert isinstance(a, PublishedUnitResults)
    assert isinstance(b, PublishedUnitResults)
    shown = hidden_report(loaded).roll_up
    assert shown is not None
    assert shown.respondents == a.respondents + b.respondents == 12
    assert shown.eligible == a.eligible + b.eligible
    assert shown.unit_respondents == 14
    assert shown.other_respondents == 2
    assert [s.name for s in shown.sub_units] == ["Sengepost A", "Sengepost B"]

    def item(unit: PublishedUnitResults, item_id: str) -> Any:
        return next(i for i in unit.items if i.item_id == item_id)

    for view in shown.items:
        in_a, in_b = item(a, view.item_id), item(b, view.item_id)
        if isinstance(view, ScaleItemResult):
            # Every option's count is the sum of the sub-units' published counts ...
            for option, count in view.distribution.model_dump().items():
                assert count == getattr(in_a.distribution, option) + getattr(
                    in_b.distribution, option
                ), (view.item_id, option)
            assert view.valid == in_a.valid + in_b.valid
            # ... and the mean is the summed distribution's (flipped when reverse-scored).
            d = view.distribution
            points = d.disagree + 2 * d.neither + 3 * d.agree + 4 * d.strongly_agree
            mean = 25 * points / view.valid
            expected = 100 - mean if view.item_id == "sc2" else mean
            assert view.mean == pytest.approx(expected, abs=0.005)
            assert view.percent_agree == pytest.approx(
                100 * (d.agree + d.strongly_agree) / view.valid, abs=0.005
            )
        else:
            assert isinstance(view, YesNoItemResult)
            assert (view.yes, view.no) == (in_a.yes + in_b.yes, in_a.no + in_b.no)
    assert {i.item_id for i in shown.items} == {"sc1", "sc2", "tw1", "bully"}

    for factor in shown.factors:
        in_a = next(f for f in a.factors if f.factor_id == factor.factor_id)
        in_b = next(f for f in b.factors if f.factor_id == factor.factor_id)
        assert factor.scored == in_a.scored + in_b.scored
        assert in_a.mean is not None
        assert in_b.mean is not None
        assert factor.mean is not None
        weighted = (in_a.scored * in_a.mean + in_b.scored * in_b.mean) / factor.scored
        assert factor.mean == pytest.approx(weighted, abs=0.01)
    assert [f.name for f in shown.factors] == ["Safety", "Teamwork"]


def test_the_roll_up_is_labelled_not_the_units_own_x_of_y_and_where_the_rest_count() -> None:
    loaded = results()
    en = hidden_report(loaded, "en")
    assert en.message == (
        "The unit's own answers \u2013 those in no published sub-unit \u2013 are too few. "
        "They count in Helse HF."
    )
    assert en.roll_up is not None
    assert en.roll_up.label == (
        "Not the results of Rehabiliteringsklinikken itself, but the sum of its 2 published "
        "sub-units: 12 of its 14 respondents. The other 2 count in Helse HF."
    )
    assert en.roll_up.other_respondents_counted_in.unit_id == "HF"
    nb, nn = hidden_report(loaded, "nb"), hidden_report(loaded, "nn")
    assert nb.roll_up is not None
    assert nn.roll_up is not None
    assert nb.roll_up.label == (
        "Ikke resultatene til Rehabiliteringsklinikken selv, men summen av de 2 publiserte "
        "underenhetene: 12 av enhetens 14 svar. De andre 2 svarene teller med i Helse HF."
    )
    assert nn.roll_up.label.startswith("Ikkje resultata til Rehabiliteringsklinikken sjølv")
    assert "Dei andre 2 svara tel med i Helse HF." in nn.roll_up.label
    assert nb.message.startswith("Enhetens egne svar")
    assert nn.message.startswith("Eininga sine eigne svar")


def test_one_sub_unit_and_no_one_else_read_as_such() -> None:
    loaded = results()
    k2 = loaded["K2"]
    assert isinstance(k2, SuppressedUnitResults)
    loaded["K2"] = k2.model_copy(
        update={"roll_up": roll_up_of({"A": A}, eligible=9, unit_respondents=len(A), specs=SPECS)}
    )
    shown = hidden_report(loaded).roll_up
    assert shown is not None
    assert shown.label == (
        "Not the results of Rehabiliteringsklinikken itself, but those of its one published "
        "sub-unit: 7 of its 7 respondents. All its respondents are in these sub-units."
    )


def _tampered(**changes: Any) -> Callable[[SubUnitsRollUp], SubUnitsRollUp]:
    return lambda r: r.model_copy(update=changes)


def _with_item(change: Callable[[Any], Any]) -> Callable[[SubUnitsRollUp], SubUnitsRollUp]:
    return lambda r: r.model_copy(update={"items": tuple(change(i) for i in r.items)})


def _with_factor(change: Callable[[FactorResult], Any]) -> Callable[[SubUnitsRollUp], Any]:
    return lambda r: r.model_copy(update={"factors": tuple(change(f) for f in r.factors)})


def _own_answers_in(r: SubUnitsRollUp) -> SubUnitsRollUp:
    """The roll-up taken over the whole hidden unit: its own atom's answers included."""
    whole = roll_up_of(
        {"A": A, "B": B, "own": OWN}, eligible=r.eligible, unit_respondents=14, specs=SPECS
    )
    return whole.model_copy(update={"sub_units": r.sub_units})


def _plus_one(item: Any) -> Any:
    if not isinstance(item, ScaleItemResult):
        return item
    d = item.distribution.model_copy(update={"disagree": item.distribution.disagree + 1})
    return item.model_copy(update={"distribution": d, "valid": item.valid + 1})


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_own_answers_in, id="own answers included"),
        pytest.param(_tampered(respondents=14), id="respondents of the whole unit"),
        pytest.param(_tampered(eligible=20), id="eligible not the sum"),
        pytest.param(_with_item(_plus_one), id="one answer more than the sum"),
        pytest.param(
            _with_item(
                lambda i: (
                    i.model_copy(update={"mean": 58.33}) if isinstance(i, ScaleItemResult) else i
                )
            ),
            id="an item mean not of the summed distribution",
        ),
        pytest.param(
            _with_item(
                lambda i: (
                    i.model_copy(update={"yes": i.yes + 2}) if isinstance(i, YesNoItemResult) else i
                )
            ),
            id="yes not the sum",
        ),
        pytest.param(
            _with_factor(lambda f: f.model_copy(update={"mean": (f.mean or 0) + 1.5})),
            id="a factor mean not their combination",
        ),
        pytest.param(
            _with_factor(lambda f: f.model_copy(update={"scored": f.scored + 2})),
            id="scored not the sum",
        ),
        pytest.param(_tampered(sub_units=("A", "B", "C")), id="names a hidden unit"),
        pytest.param(_tampered(sub_units=("A", "X")), id="names a unit not known"),
        pytest.param(_tampered(sub_units=("A", "A")), id="names a unit twice"),
        pytest.param(_tampered(unit_respondents=11), id="covers more than the unit has"),
    ],
)
def test_a_roll_up_that_is_not_the_combination_of_published_cells_is_not_shown(
    tamper: Callable[[SubUnitsRollUp], SubUnitsRollUp],
) -> None:
    loaded = results()
    k2 = loaded["K2"]
    assert isinstance(k2, SuppressedUnitResults)
    assert k2.roll_up is not None
    bad = tamper(k2.roll_up)
    loaded["K2"] = k2.model_copy(update={"roll_up": bad})
    found = roll_up.problems(bad, loaded, reverse_scored=frozenset({"sc2"}))
    assert found
    data = hidden_report(loaded)
    assert data.roll_up is None, "only why it is hidden and where its answers count"
    assert data.message.endswith("They count in Helse HF.")
    summary = report.summary(loaded["K2"], NAMES, covered=loaded)
    assert summary.model_dump()["roll_up"] is None
    # Not compared with either, and the problems name fields, never a figure.
    child = report.report(
        loaded["A"],
        names=NAMES,
        questionnaire=QUESTIONNAIRE,
        language="en",
        stage=1,
        parent=loaded["K2"],
        covered=loaded,
    )
    assert isinstance(child, PublishedUnitReport)
    assert child.comparisons.parent is None
    assert not re.search(r"\d", re.sub(r"\b(sc|tw)\d\b", "", " ".join(found))), found


def test_a_factor_mean_is_shown_only_when_every_scored_sub_unit_publishes_its_own() -> None:
    loaded = results()
    a = loaded["A"]
    assert isinstance(a, PublishedUnitResults)
    # A's teamwork mean withheld (fewer than k scored there, say): the roll-up's teamwork
    # mean is then not determined by published cells, even if the sum reaches k.
    loaded["A"] = a.model_copy(
        update={
            "factors": tuple(
                f.model_copy(update={"mean": None, "percent_positive": None})
                if f.factor_id == "tw"
                else f
                for f in a.factors
            )
        }
    )
    assert hidden_report(loaded).roll_up is None
    k2 = loaded["K2"]
    assert isinstance(k2, SuppressedUnitResults)
    assert k2.roll_up is not None
    without = k2.roll_up.model_copy(
        update={
            "factors": tuple(
                f.model_copy(update={"mean": None, "percent_positive": None})
                if f.factor_id == "tw"
                else f
                for f in k2.roll_up.factors
            )
        }
    )
    loaded["K2"] = k2.model_copy(update={"roll_up": without})
    shown = hidden_report(loaded).roll_up
    assert shown is not None, "the roll-up without that mean is the combination"
    assert [f.mean is None for f in shown.factors] == [False, True]


def test_without_the_questionnaire_either_orientation_of_a_mean_is_taken() -> None:
    loaded = results()
    k2 = loaded["K2"]
    assert isinstance(k2, SuppressedUnitResults)
    assert k2.roll_up is not None
    assert roll_up.problems(k2.roll_up, loaded, reverse_scored=None) == []
    # With the questionnaire, a reverse-scored item's mean must be the flipped one.
    assert roll_up.problems(k2.roll_up, loaded, reverse_scored=frozenset()) != []


def test_a_published_unit_compares_with_its_hidden_parents_roll_up_labelled_so() -> None:
    loaded = results()
    for language, label in (
        ("en", "Roll-up of Rehabiliteringsklinikken's published sub-units"),
        ("nb", "Samlet for de publiserte underenhetene av Rehabiliteringsklinikken"),
        ("nn", "Samla for dei publiserte undereiningane av Rehabiliteringsklinikken"),
    ):
        data = report.report(
            loaded["A"],
            names=NAMES,
            questionnaire=QUESTIONNAIRE,
            language=language,
            stage=1,
            parent=loaded["K2"],
            sub_units=[],
            covered=loaded,
        )
        assert isinstance(data, PublishedUnitReport)
        parent = data.comparisons.parent
        assert parent is not None
        assert (parent.unit_id, parent.roll_up, parent.label) == ("K2", True, label)
        k2 = loaded["K2"]
        assert isinstance(k2, SuppressedUnitResults)
        assert k2.roll_up is not None
        assert parent.factors == {f.factor_id: f.mean for f in k2.roll_up.factors}


def test_the_export_marks_every_roll_up_row_with_x_of_y() -> None:
    data = hidden_report(results()).model_dump(mode="json")
    rows = export_rows(data)
    assert rows[0][:4] == ["unit_id", "unit_name", "published", "reason"]
    assert rows[1][:4] == ["K2", "Rehabiliteringsklinikken", "false", "direct_answers_too_few"]
    header = rows[3]
    summary = dict(zip(header, rows[4], strict=True))
    assert summary["results_of"] == ROLL_UP_MARK
    assert (summary["respondents"], summary["unit_respondents"]) == (12, 14)
    assert (summary["other_respondents"], summary["other_respondents_counted_in"]) == (2, "HF")
    assert summary["sub_units"] == "A B"
    figures = [row for row in rows[5:] if row and row[0] in ("sc", "tw", "sc1", "sc2", "tw1")]
    assert len(figures) == 5
    assert all(row[-1] == f"{ROLL_UP_MARK} (12 of 14)" for row in figures)
    # Without a roll-up: the suppression fact only.
    loaded = results()
    k2 = loaded["K2"]
    assert isinstance(k2, SuppressedUnitResults)
    loaded["K2"] = k2.model_copy(update={"roll_up": None})
    assert len(export_rows(hidden_report(loaded).model_dump(mode="json"))) == 2
