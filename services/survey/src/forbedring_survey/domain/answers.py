"""Answer validation: a submission checked against its questionnaire, one problem per
faulty question, with the reason in the respondent's language."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from forbedring_survey.domain.questionnaire import DONT_KNOW, NO, YES, Questionnaire, Texts

__all__ = ["PROBLEM_TEXTS", "AnswerProblem", "ProblemCode", "validate_answers"]


class ProblemCode(StrEnum):
    """Why an answer was refused. Stable codes; `PROBLEM_TEXTS` has the messages."""

    UNKNOWN_ITEM = "unknown_item"
    """No such question in this questionnaire (or a background question sent among the
    answers, or an item sent among the background answers)."""
    MISSING_ANSWER = "missing_answer"
    """A required question was not answered."""
    EXPECTED_SCALE_ANSWER = "expected_scale_answer"
    """A scale item got something other than a whole number 1-5 or `dont_know`."""
    EXPECTED_YES_NO_ANSWER = "expected_yes_no_answer"
    """A yes/no item got something other than `yes` or `no`."""
    UNKNOWN_OPTION = "unknown_option"
    """A background question got something other than one of its option codes."""


PROBLEM_TEXTS: Mapping[ProblemCode, Texts] = {
    ProblemCode.UNKNOWN_ITEM: Texts(
        nb="Spørsmålet finnes ikke i denne undersøkelsen.",
        nn="Spørsmålet finst ikkje i denne undersøkinga.",
        en="This question is not part of this survey.",
    ),
    ProblemCode.MISSING_ANSWER: Texts(
        nb="Dette spørsmålet må besvares.",
        nn="Du må svare på dette spørsmålet.",
        en="This question needs an answer.",
    ),
    ProblemCode.EXPECTED_SCALE_ANSWER: Texts(
        nb="Velg et svar fra «Helt uenig» til «Helt enig», eller «Vet ikke / ikke relevant».",
        nn="Vel eit svar frå «Heilt usamd» til «Heilt samd», eller «Veit ikkje / ikkje relevant».",
        en='Choose an answer from "Strongly disagree" to "Strongly agree", '
        'or "Don\'t know / not relevant".',
    ),
    ProblemCode.EXPECTED_YES_NO_ANSWER: Texts(
        nb="Svar ja eller nei.",
        nn="Svar ja eller nei.",
        en="Answer yes or no.",
    ),
    ProblemCode.UNKNOWN_OPTION: Texts(
        nb="Velg ett av svaralternativene.",
        nn="Vel eitt av svaralternativa.",
        en="Choose one of the options.",
    ),
}


class AnswerProblem(BaseModel):
    """One faulty question of a submission. It names the question and the reason, never
    the submitted value (which must not end up in logs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    part: Literal["answers", "background"] = Field(
        description="`answers` for scored items, `background` for background questions."
    )
    item_id: str = Field(description="The question's id, as submitted.")
    code: ProblemCode

    def message(self, language: Literal["nb", "nn", "en"]) -> str:
        """The problem as the respondent should read it."""
        return PROBLEM_TEXTS[self.code].get(language)


def _is_scale_answer(value: object) -> bool:
    if isinstance(value, str):
        return value == DONT_KNOW
    # bool is an int in Python; True is not an answer.
    return type(value) is int and 1 <= value <= 5


def _is_yes_no_answer(value: object) -> bool:
    return isinstance(value, str) and value in (YES, NO)


def validate_answers(
    questionnaire: Questionnaire,
    answers: Mapping[str, object],
    background: Mapping[str, object] | None = None,
) -> list[AnswerProblem]:
    """Check a submission against `questionnaire`; an empty list means it is valid.

    `answers` maps item id to `1`-`5` or `"dont_know"` for scale items and `"yes"` or
    `"no"` for yes/no items; an unanswered optional item is absent. `background` maps
    background question id to one of its option codes. Each faulty question gives one
    problem: questions in form order first, then unknown ids in sorted order, answers
    before background. A valid `answers` mapping fits `ResponseSubmitted.answers`.
    """
    problems: list[AnswerProblem] = []
    items = questionnaire.items
    for item in items:
        if item.id not in answers:
            if item.required:
                problems.append(_problem("answers", item.id, ProblemCode.MISSING_ANSWER))
            continue
        value = answers[item.id]
        if item.kind == "scale" and not _is_scale_answer(value):
            problems.append(_problem("answers", item.id, ProblemCode.EXPECTED_SCALE_ANSWER))
        elif item.kind == "yes_no" and not _is_yes_no_answer(value):
            problems.append(_problem("answers", item.id, ProblemCode.EXPECTED_YES_NO_ANSWER))
    known_items = {item.id for item in items}
    for unknown in sorted(set(answers) - known_items):
        problems.append(_problem("answers", unknown, ProblemCode.UNKNOWN_ITEM))

    given = background or {}
    questions = questionnaire.background.questions
    for question in questions:
        if question.id not in given:
            if question.required:
                problems.append(_problem("background", question.id, ProblemCode.MISSING_ANSWER))
            continue
        value = given[question.id]
        if not (isinstance(value, str) and value in question.option_codes):
            problems.append(_problem("background", question.id, ProblemCode.UNKNOWN_OPTION))
    known_questions = {question.id for question in questions}
    for unknown in sorted(set(given) - known_questions):
        problems.append(_problem("background", unknown, ProblemCode.UNKNOWN_ITEM))
    return problems


def _problem(
    part: Literal["answers", "background"], item_id: str, code: ProblemCode
) -> AnswerProblem:
    return AnswerProblem(part=part, item_id=item_id, code=code)
