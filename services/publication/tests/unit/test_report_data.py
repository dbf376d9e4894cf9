"""Report data: a suppressed unit says why and where its answers count, with no number."""

import json
import re

from forbedring_contracts import examples, scoring
from forbedring_contracts.events import (
    Indicator,
    PublishedUnitResults,
    ScaleDistribution,
    ScaleItemResult,
    SuppressedUnitResults,
)
from forbedring_publication.domain import report
from forbedring_publication.schemas import (
    PublishedSummary,
    PublishedUnitReport,
    SuppressedUnitReport,
)


def test_a_suppressed_unit_reports_its_reason_and_including_unit_only() -> None:
    data = report.report(
        examples.SUPPRESSED_UNIT_RESULTS,
        names={"K1": "Medisinsk klinikk", "HF": "Helse Eksempel HF"},
        questionnaire=examples.PERIOD_OPENED.questionnaire,
        language="en",
        stage=1,
    )
    assert isinstance(data, SuppressedUnitReport)
    assert data.included_in.name == "Helse Eksempel HF"
    assert "Helse Eksempel HF" in data.message
    assert data.roll_up is None
    body = data.model_dump(mode="json")
    assert set(body) == {
        "period_id",
        "stage",
        "language",
        "unit",
        "published",
        "reason",
        "message",
        "included_in",
        "roll_up",
    }
    # The only digits are in ids and the stage: nothing from answers.
    text = json.dumps({k: v for k, v in body.items() if k not in ("period_id", "stage", "unit")})
    assert not re.search(r"\d", text)


def test_a_published_unit_reports_its_numbers_with_texts_in_the_language() -> None:
    data = report.report(
        examples.PUBLISHED_UNIT_RESULTS,
        names={"S11": "Sengepost 1"},
        questionnaire=examples.PERIOD_OPENED.questionnaire,
        language="nn",
        stage=2,
    )
    assert isinstance(data, PublishedUnitReport)
    assert data.respondents == 11
    assert data.response_rate == 78.6
    assert data.factors[0].name == "Tryggleiksklima"
    assert data.items[0].text.startswith("Eg ville")


def test_the_unit_list_gives_respondents_only_for_published_units() -> None:
    names = {"K1": "Medisinsk klinikk"}
    hidden = report.summary(examples.SUPPRESSED_UNIT_RESULTS, names).model_dump()
    assert "respondents" not in hidden
    assert hidden["roll_up"] is None
    published = report.summary(examples.PUBLISHED_UNIT_RESULTS, names)
    assert isinstance(published, PublishedSummary)
    assert published.respondents == 11


def _scale(item_id: str, mean: float | None, agree: float | None) -> ScaleItemResult:
    return ScaleItemResult(
        kind="scale",
        item_id=item_id,
        distribution=ScaleDistribution(
            strongly_disagree=1, disagree=1, neither=1, agree=1, strongly_agree=1, dont_know=0
        ),
        valid=5,
        mean=mean,
        percent_agree=agree,
    )


def test_follow_up_flags_follow_seed_002() -> None:
    assert scoring.needs_follow_up(_scale("a", 80.0, 59.9), reverse_scored=False)
    assert scoring.needs_follow_up(_scale("b", 74.9, 90.0), reverse_scored=False)
    assert not scoring.needs_follow_up(_scale("c", 75.0, 60.0), reverse_scored=False)
    # Agreeing with a reverse-scored item is unfavourable: only its flipped mean counts.
    assert not scoring.needs_follow_up(_scale("d", 80.0, 10.0), reverse_scored=True)
    assert not scoring.needs_follow_up(_scale("e", None, None), reverse_scored=False)


def test_strengths_are_the_best_unflagged_items_best_first() -> None:
    items = [
        _scale("x", 90.0, 95.0),
        _scale("y", 95.0, 95.0),
        _scale("z", 90.0, 95.0),
        _scale("w", 99.0, 40.0),  # flagged: not a strength however high its mean
        _scale("v", 85.0, 95.0),
        _scale("n", None, None),
    ]
    assert scoring.strengths(items, flagged={"w"}) == ["y", "x", "z"]


def test_comparisons_only_with_published_units() -> None:
    names = {"S11": "Sengepost 1", "K1": "Medisinsk klinikk"}
    texts = report.Texts.of(examples.PERIOD_OPENED.questionnaire, "en")
    published = report.comparison(examples.PUBLISHED_UNIT_RESULTS, names, texts=texts)
    assert published is not None
    assert (published.unit_id, published.label, published.roll_up) == ("S11", "Sengepost 1", False)
    assert set(published.factors) == {f.factor_id for f in examples.PUBLISHED_UNIT_RESULTS.factors}
    assert report.comparison(examples.SUPPRESSED_UNIT_RESULTS, names, texts=texts) is None
    assert report.comparison(None, names, texts=texts) is None


def test_a_report_lists_sub_units_without_numbers_for_suppressed_ones() -> None:
    data = report.report(
        examples.PUBLISHED_UNIT_RESULTS,
        names={"S11": "Sengepost 1", "K1": "Medisinsk klinikk"},
        questionnaire=examples.PERIOD_OPENED.questionnaire,
        language="en",
        stage=1,
        parent=examples.SUPPRESSED_UNIT_RESULTS,
        sub_units=[examples.SUPPRESSED_UNIT_RESULTS],
    )
    assert isinstance(data, PublishedUnitReport)
    assert data.comparisons.parent is None, "a suppressed parent is not compared with"
    (sub,) = data.sub_units
    assert sub.published is False
    assert "respondents" not in sub.model_dump()


def _with_indicators(unit_id: str, agree: bool | None, saq: bool | None) -> PublishedUnitResults:
    return examples.PUBLISHED_UNIT_RESULTS.model_copy(
        update={
            "unit_id": unit_id,
            "indicators": (
                Indicator(
                    indicator_id="good_safety_climate_agree", value=None, threshold=75, met=agree
                ),
                Indicator(
                    indicator_id="good_safety_climate_saq", value=None, threshold=60, met=saq
                ),
            ),
        }
    )


def test_the_enterprise_indicator_counts_published_units_per_level_against_the_target() -> None:
    results: list[PublishedUnitResults | SuppressedUnitResults] = [
        _with_indicators("A", True, False),
        _with_indicators("B", True, True),
        _with_indicators("C", False, None),  # the SAQ definition unknown: not counted there
        _with_indicators("D", True, True),
        examples.SUPPRESSED_UNIT_RESULTS,  # no results of its own: not counted
    ]
    levels = {"A": "3", "B": "3", "C": "3", "D": "2"}
    rows = report.indicator_by_level(results, levels, target=60.0)
    by = {(r["level"], r["indicator_id"]): r for r in rows}
    agree3 = by[("3", "good_safety_climate_agree")]
    assert (agree3["units_met"], agree3["units_known"], agree3["share"]) == (2, 3, 66.7)
    assert agree3["target_met"] is True
    saq3 = by[("3", "good_safety_climate_saq")]
    assert (saq3["units_met"], saq3["units_known"], saq3["target_met"]) == (1, 2, False)
    assert by[("2", "good_safety_climate_saq")]["share"] == 100.0
    assert len(rows) == 4
