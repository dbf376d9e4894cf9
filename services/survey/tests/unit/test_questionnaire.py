"""The default questionnaire: its data file, its rules, answer validation, the contract."""

import copy
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ValidationError

from forbedring_contracts.events import survey as contract
from forbedring_survey.domain.answers import (
    PROBLEM_TEXTS,
    AnswerProblem,
    ProblemCode,
    validate_answers,
)
from forbedring_survey.domain.questionnaire import (
    KNOWN_FACTORS,
    MIN_ITEMS_PER_FACTOR,
    Questionnaire,
    Texts,
    UnknownQuestionnaireVersionError,
    available_versions,
    checksum,
    load_questionnaire,
    to_contract,
)

VERSION = "2026.1"

PUBLISHED_CHECKSUMS = {
    VERSION: "sha256:1a12c8210d5cc26b1f3276b3371b12f582579b80fe3f8c846b7a8deed2ada5cf",
}
"""A published version never changes: a period that pinned it must keep reading the same
questions. If this test fails because the file was edited, revert the edit and write the
change as a new version instead."""

LANGUAGES: tuple[Literal["nb", "nn", "en"], ...] = ("nb", "nn", "en")


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    return load_questionnaire(VERSION)


def _all_texts(model: BaseModel) -> list[Texts]:
    """Every `Texts` anywhere inside `model`."""
    found: list[Texts] = []

    def walk(value: object) -> None:
        if isinstance(value, Texts):
            found.append(value)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, tuple):
            for element in value:
                walk(element)

    walk(model)
    return found


def _complete_answers(questionnaire: Questionnaire) -> dict[str, object]:
    answers: dict[str, object] = {}
    for index, item in enumerate(questionnaire.items):
        if item.kind == "scale":
            answers[item.id] = "dont_know" if index % 6 == 5 else index % 5 + 1
        else:
            answers[item.id] = "yes" if index % 2 else "no"
    return answers


def _complete_background(questionnaire: Questionnaire) -> dict[str, object]:
    return {q.id: q.options[-1].code for q in questionnaire.background.questions}


def _data(questionnaire: Questionnaire) -> dict[str, Any]:
    """A deep, mutable copy of the questionnaire as plain data, to break in memory."""
    return copy.deepcopy(questionnaire.model_dump(mode="json"))


# --- the file ---------------------------------------------------------------------------


def test_the_default_version_ships_and_loads(questionnaire: Questionnaire) -> None:
    assert VERSION in available_versions()
    assert questionnaire.version == VERSION
    assert questionnaire.estimated_minutes == 10


def test_counts(questionnaire: Questionnaire) -> None:
    scale = [i for i in questionnaire.items if i.kind == "scale"]
    yes_no = [i for i in questionnaire.items if i.kind == "yes_no"]
    background = questionnaire.background.questions
    assert (len(scale), len(yes_no), len(background)) == (32, 4, 5)
    assert questionnaire.question_count == 41
    assert 35 <= questionnaire.question_count <= 45


def test_sections_cover_the_themes_the_survey_reports(questionnaire: Questionnaire) -> None:
    assert [s.id for s in questionnaire.sections] == [
        "engagement",
        "teamwork",
        "patient_safety",
        "working_conditions",
        "nearest_leader",
        "physical_environment",
        "action_plan",
        "climate_environment",
        "all_in_all",
        "bullying_harassment_violence",
    ]
    assert {f.id for f in questionnaire.factors} == KNOWN_FACTORS
    overall = questionnaire.item("overall_satisfaction")
    assert (overall.kind, overall.factor) == ("scale", None)
    assert [i for i in questionnaire.items if i.kind == "scale" and i.factor is None] == [overall]


def test_every_text_is_written_in_all_three_languages(questionnaire: Questionnaire) -> None:
    texts = _all_texts(questionnaire)
    # items, section titles, factor names, scale labels, options, intro ...
    assert len(texts) > 100
    for text in texts:
        for language in LANGUAGES:
            assert text.get(language).strip(), text


def test_nynorsk_is_nynorsk_and_english_is_english(questionnaire: Questionnaire) -> None:
    bokmaal_only = re.compile(
        r"\b(jeg|ikke|hva|hvordan|hvem|hvis|noen|noe|fra|bare|mye|enheten|hverandre|"
        r"sammen|være|gjøre|medarbeidere|leder|sikkerhet|undersøkelsen)\b",
        re.IGNORECASE,
    )
    for text in _all_texts(questionnaire):
        assert not bokmaal_only.search(text.nn), text.nn
        assert not re.search(r"[æøåÆØÅ]", text.en), text.en
    for item in questionnaire.items:
        assert item.text.nn != item.text.nb, item.id
        assert item.text.en != item.text.nb, item.id


def test_every_factor_has_enough_items_and_some_items_are_reverse_scored(
    questionnaire: Questionnaire,
) -> None:
    for factor in questionnaire.factors:
        assert len(questionnaire.factor_items(factor.id)) >= MIN_ITEMS_PER_FACTOR >= 3
    reverse = {i.id for i in questionnaire.items if i.reverse_scored}
    assert reverse == {
        "team_keep_quiet",
        "safe_fear_of_blame",
        "work_too_much",
        "phys_noise_space",
    }
    assert all(questionnaire.item(i).kind == "scale" for i in reverse)


def test_sensitive_items_are_the_optional_yes_no_items(questionnaire: Questionnaire) -> None:
    sensitive = [i for i in questionnaire.items if i.sensitive]
    assert [i.id for i in sensitive] == [
        "harm_bullied",
        "harm_harassed",
        "harm_violence_threats",
        "harm_aware_of_others",
    ]
    assert all(i.kind == "yes_no" and not i.required for i in sensitive)
    assert all(i.required for i in questionnaire.items if i.kind == "scale")


def test_background_questions_are_single_choice_and_apart_from_items(
    questionnaire: Questionnaire,
) -> None:
    background = questionnaire.background.questions
    assert [q.id for q in background] == [
        "gender",
        "age_band",
        "profession_group",
        "employment_type",
        "position_band",
    ]
    assert not {q.id for q in background} & {i.id for i in questionnaire.items}
    assert all(len(q.options) >= 2 and not q.required for q in background)


def test_answer_scale_and_labels(questionnaire: Questionnaire) -> None:
    scale = questionnaire.answer_scale
    assert [p.value for p in scale.points] == [1, 2, 3, 4, 5]
    assert scale.points[0].label.en == "Strongly disagree"
    assert scale.points[-1].label.nn == "Heilt samd"
    assert scale.dont_know.nb == "Vet ikke / ikke relevant"
    assert questionnaire.yes_no.yes.en == "Yes"


def test_unknown_versions_are_refused() -> None:
    for version in ("1999.1", "../2026.1", "2026.1.yaml", ""):
        with pytest.raises(UnknownQuestionnaireVersionError):
            load_questionnaire(version)


# --- immutability and the checksum ------------------------------------------------------


def test_the_loaded_questionnaire_is_immutable(questionnaire: Questionnaire) -> None:
    assert load_questionnaire(VERSION) is questionnaire
    with pytest.raises(ValidationError):
        questionnaire.version = "2026.2"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        questionnaire.items[0].text.nb = "Endret"  # type: ignore[misc]
    assert isinstance(questionnaire.sections, tuple)


def test_the_checksum_is_stable(questionnaire: Questionnaire) -> None:
    value = checksum(questionnaire)
    assert value == PUBLISHED_CHECKSUMS[VERSION]
    assert checksum(Questionnaire.model_validate(_data(questionnaire))) == value
    assert checksum(Questionnaire.model_validate_json(questionnaire.model_dump_json())) == value


def test_the_checksum_sees_any_change_of_content(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["sections"][0]["items"][0]["text"]["nn"] += "."
    assert checksum(Questionnaire.model_validate(data)) != checksum(questionnaire)


# --- broken copies -----------------------------------------------------------------------


def _refused(data: dict[str, Any], *fragments: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Questionnaire.model_validate(data)
    message = str(refused.value)
    for fragment in fragments:
        assert fragment in message, message


def test_a_copy_missing_a_nynorsk_text_is_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    del data["sections"][1]["items"][2]["text"]["nn"]
    _refused(data, "sections.1.items.2.text.nn", "Field required")


def test_a_copy_with_a_blank_text_is_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["background"]["questions"][0]["options"][0]["label"]["en"] = "   "
    _refused(data, "label.en")


def test_a_copy_with_a_duplicate_id_is_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["sections"][2]["items"][1]["id"] = "eng_meaningful"
    _refused(data, "duplicate question id eng_meaningful")


def test_a_background_question_may_not_reuse_an_item_id(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["background"]["questions"][0]["id"] = "harm_bullied"
    _refused(data, "duplicate question id harm_bullied")


def test_a_copy_with_an_unknown_factor_is_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["factors"][0]["id"] = "happiness"
    for section in data["sections"]:
        for item in section["items"]:
            if item["factor"] == "engagement":
                item["factor"] = "happiness"
    _refused(data, "unknown factor happiness")


def test_an_item_naming_an_undeclared_factor_is_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["sections"][0]["items"][0]["factor"] = "safety_climate_x"
    _refused(data, "factor safety_climate_x is not declared", "factor engagement has 2 items")


def test_a_sensitive_scale_item_is_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["sections"][0]["items"][0]["sensitive"] = True
    _refused(data, "only yes/no items can be sensitive")


def test_a_required_sensitive_item_is_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["sections"][-1]["items"][0]["required"] = True
    _refused(data, "a sensitive item may always be skipped")


def test_a_scale_item_must_say_its_factor_and_direction(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    del data["sections"][0]["items"][0]["reverse_scored"]
    del data["sections"][0]["items"][1]["factor"]
    _refused(data, "say reverse_scored explicitly", "say factor explicitly")


def test_too_few_or_too_many_questions_are_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["background"]["questions"] = data["background"]["questions"][:1]
    data["sections"] = [s for s in data["sections"] if s["id"] != "bullying_harassment_violence"]
    _refused(data, "33 questions")
    data = _data(questionnaire)
    extra = copy.deepcopy(data["sections"][-1]["items"])
    for n, item in enumerate(extra * 2):
        item = copy.deepcopy(item)
        item["id"] = f"extra_{n}"
        data["sections"][-1]["items"].append(item)
    _refused(data, "49 questions")


def test_an_unknown_key_in_the_file_is_refused(questionnaire: Questionnaire) -> None:
    data = _data(questionnaire)
    data["sections"][0]["items"][0]["reversed"] = True
    _refused(data, "reversed", "Extra inputs are not permitted")


# --- the contract --------------------------------------------------------------------------


def test_the_contract_conversion_validates_and_loses_nothing_it_carries(
    questionnaire: Questionnaire,
) -> None:
    converted = to_contract(questionnaire)
    again = contract.Questionnaire.model_validate_json(converted.model_dump_json())
    assert again == converted
    assert [f.factor_id for f in converted.factors] == [f.id for f in questionnaire.factors]
    assert len(converted.items) == len(questionnaire.items)
    for ours, theirs in zip(questionnaire.items, converted.items, strict=True):
        assert theirs.item_id == ours.id
        assert theirs.kind == ours.kind
        assert theirs.factor_id == ours.factor
        assert theirs.reverse_scored == ours.reverse_scored
        assert theirs.sensitive == ours.sensitive
        assert theirs.text.model_dump() == ours.text.model_dump()
    background_ids = {q.id for q in questionnaire.background.questions}
    assert not background_ids & {i.item_id for i in converted.items}


def test_the_contract_questionnaire_fits_period_opened(questionnaire: Questionnaire) -> None:
    opens = datetime(2026, 2, 2, 8, tzinfo=UTC)
    event = contract.PeriodOpened(
        period_id="p-2026",
        organisation_id="hf",
        name="ForBedring 2026",
        opens_at=opens,
        closes_at=opens + timedelta(weeks=6),
        questionnaire_version=questionnaire.version,
        questionnaire=to_contract(questionnaire),
        k=5,
        sensitive_k=10,
        stage_1_delay=timedelta(days=1),
        stage_2_delay=timedelta(days=7),
        plan_deadline=date(2026, 6, 30),
        units=(
            contract.UnitInScope(unit_id="hf", parent_id=None, name="HF", level="1", eligible=0),
        ),
    )
    assert contract.PeriodOpened.model_validate_json(event.model_dump_json()) == event


def test_valid_answers_fit_the_response_contract(questionnaire: Questionnaire) -> None:
    answers = _complete_answers(questionnaire)
    assert validate_answers(questionnaire, answers) == []
    event = contract.ResponseSubmitted.model_validate(
        {
            "response_id": "0b7f3c2e-7d4a-4c55-9b53-3c1f2d0a9e11",
            "period_id": "p-2026",
            "unit_id": "u-1",
            "questionnaire_version": questionnaire.version,
            "answers": answers,
        }
    )
    assert event.answers == answers


# --- answers ---------------------------------------------------------------------------------


def test_a_complete_valid_submission_has_no_problems(questionnaire: Questionnaire) -> None:
    problems = validate_answers(
        questionnaire, _complete_answers(questionnaire), _complete_background(questionnaire)
    )
    assert problems == []


def test_only_scale_items_are_required(questionnaire: Questionnaire) -> None:
    answers = {i.id: 3 for i in questionnaire.items if i.kind == "scale"}
    assert validate_answers(questionnaire, answers) == []
    assert validate_answers(questionnaire, answers, {}) == []


def _one_problem(
    questionnaire: Questionnaire,
    answers: dict[str, object] | None = None,
    background: dict[str, object] | None = None,
) -> list[tuple[str, str, ProblemCode]]:
    return [
        (p.part, p.item_id, p.code)
        for p in validate_answers(
            questionnaire,
            {**_complete_answers(questionnaire), **(answers or {})},
            {**_complete_background(questionnaire), **(background or {})},
        )
    ]


@pytest.mark.parametrize(
    ("item_id", "value", "code"),
    [
        ("eng_meaningful", 0, ProblemCode.EXPECTED_SCALE_ANSWER),
        ("eng_meaningful", 6, ProblemCode.EXPECTED_SCALE_ANSWER),
        ("eng_meaningful", "3", ProblemCode.EXPECTED_SCALE_ANSWER),
        ("eng_meaningful", 3.0, ProblemCode.EXPECTED_SCALE_ANSWER),
        ("eng_meaningful", True, ProblemCode.EXPECTED_SCALE_ANSWER),
        ("eng_meaningful", "yes", ProblemCode.EXPECTED_SCALE_ANSWER),
        ("eng_meaningful", None, ProblemCode.EXPECTED_SCALE_ANSWER),
        ("harm_bullied", 1, ProblemCode.EXPECTED_YES_NO_ANSWER),
        ("harm_bullied", "dont_know", ProblemCode.EXPECTED_YES_NO_ANSWER),
        ("harm_bullied", "Yes", ProblemCode.EXPECTED_YES_NO_ANSWER),
        ("harm_bullied", True, ProblemCode.EXPECTED_YES_NO_ANSWER),
        ("no_such_item", 3, ProblemCode.UNKNOWN_ITEM),
        ("gender", "female", ProblemCode.UNKNOWN_ITEM),
    ],
)
def test_each_bad_answer_is_reported(
    questionnaire: Questionnaire, item_id: str, value: object, code: ProblemCode
) -> None:
    assert _one_problem(questionnaire, answers={item_id: value}) == [("answers", item_id, code)]


def test_a_missing_required_answer_is_reported(questionnaire: Questionnaire) -> None:
    answers = _complete_answers(questionnaire)
    del answers["safe_fear_of_blame"]
    del answers["harm_violence_threats"]  # optional: may be skipped
    assert [(p.item_id, p.code) for p in validate_answers(questionnaire, answers)] == [
        ("safe_fear_of_blame", ProblemCode.MISSING_ANSWER)
    ]


@pytest.mark.parametrize(
    ("question_id", "value", "code"),
    [
        ("gender", "unknown", ProblemCode.UNKNOWN_OPTION),
        ("age_band", 30, ProblemCode.UNKNOWN_OPTION),
        ("position_band", "full_time ", ProblemCode.UNKNOWN_OPTION),
        ("profession_group", None, ProblemCode.UNKNOWN_OPTION),
        ("shoe_size", "42", ProblemCode.UNKNOWN_ITEM),
        ("eng_meaningful", "5", ProblemCode.UNKNOWN_ITEM),
    ],
)
def test_each_bad_background_answer_is_reported(
    questionnaire: Questionnaire, question_id: str, value: object, code: ProblemCode
) -> None:
    assert _one_problem(questionnaire, background={question_id: value}) == [
        ("background", question_id, code)
    ]


def test_several_faults_give_one_problem_per_question_in_form_order(
    questionnaire: Questionnaire,
) -> None:
    answers = _complete_answers(questionnaire)
    del answers["lead_fair"]
    answers.update(
        {"zzz": 1, "aaa": "yes", "overall_satisfaction": "no", "team_help": 9, "harm_harassed": 2}
    )
    problems = validate_answers(questionnaire, answers, {"gender": "x", "hobby": "chess"})
    assert [(p.part, p.item_id, p.code) for p in problems] == [
        ("answers", "team_help", ProblemCode.EXPECTED_SCALE_ANSWER),
        ("answers", "lead_fair", ProblemCode.MISSING_ANSWER),
        ("answers", "overall_satisfaction", ProblemCode.EXPECTED_SCALE_ANSWER),
        ("answers", "harm_harassed", ProblemCode.EXPECTED_YES_NO_ANSWER),
        ("answers", "aaa", ProblemCode.UNKNOWN_ITEM),
        ("answers", "zzz", ProblemCode.UNKNOWN_ITEM),
        ("background", "gender", ProblemCode.UNKNOWN_OPTION),
        ("background", "hobby", ProblemCode.UNKNOWN_ITEM),
    ]


def test_problems_are_translated_and_never_echo_the_answer(
    questionnaire: Questionnaire,
) -> None:
    assert set(PROBLEM_TEXTS) == set(ProblemCode)
    problem = AnswerProblem(part="answers", item_id="team_help", code=ProblemCode.MISSING_ANSWER)
    assert problem.message("nn") == "Du må svare på dette spørsmålet."
    assert set(AnswerProblem.model_fields) == {"part", "item_id", "code"}
    assert problem.model_dump(mode="json") == {
        "part": "answers",
        "item_id": "team_help",
        "code": "missing_answer",
    }
