"""Report data: a suppressed unit says why and where its answers count, with no number."""

import json
import re

from forbedring_contracts import examples
from forbedring_publication.domain import report


def test_a_suppressed_unit_reports_its_reason_and_including_unit_only() -> None:
    data = report.report(
        examples.SUPPRESSED_UNIT_RESULTS,
        names={"K1": "Medisinsk klinikk", "HF": "Helse Eksempel HF"},
        questionnaire=examples.PERIOD_OPENED.questionnaire,
        language="en",
        stage=1,
    )
    assert data["published"] is False
    assert data["included_in"] == {"unit_id": "HF", "name": "Helse Eksempel HF"}
    assert "Helse Eksempel HF" in data["message"]
    assert set(data) == {
        "period_id",
        "stage",
        "language",
        "unit",
        "published",
        "reason",
        "message",
        "included_in",
    }
    # The only digits are in ids and the stage: nothing from answers.
    text = json.dumps({k: v for k, v in data.items() if k not in ("period_id", "stage", "unit")})
    assert not re.search(r"\d", text)


def test_a_published_unit_reports_its_numbers_with_texts_in_the_language() -> None:
    data = report.report(
        examples.PUBLISHED_UNIT_RESULTS,
        names={"S11": "Sengepost 1"},
        questionnaire=examples.PERIOD_OPENED.questionnaire,
        language="nn",
        stage=2,
    )
    assert data["respondents"] == 11
    assert data["response_rate"] == 78.6
    assert data["factors"][0]["name"] == "Tryggleiksklima"
    assert data["items"][0]["text"].startswith("Eg ville")


def test_the_unit_list_gives_respondents_only_for_published_units() -> None:
    names = {"K1": "Medisinsk klinikk"}
    assert "respondents" not in report.summary(examples.SUPPRESSED_UNIT_RESULTS, names)
    assert report.summary(examples.PUBLISHED_UNIT_RESULTS, names)["respondents"] == 11
