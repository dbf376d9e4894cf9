"""The questionnaire: versioned data files, their model, answer validation, the contract.

A questionnaire version is a YAML file in `forbedring_survey/questionnaires/`, named
`<version>.yaml` (e.g. `2026.1.yaml`), shipped inside the package. This module reads it
(through `importlib.resources`, the only I/O here), validates it and gives back a frozen
model: a period pins a version, and loading that version always gives the same content
(`checksum` fingerprints it; a published file is never edited, a change is a new version).

Which answers are required: every scale item (everyone can answer "Don't know / not
relevant"), unless the data says otherwise. The sensitive yes/no items (bullying,
harassment, violence and threats) are never required: a respondent may skip them.
Background questions are optional. Skipped items are absent from the answers.
`answers.validate_answers` checks a submission against these rules.

Background variables (gender, age band, profession group, employment type, position-%
band) are kept apart from the scored items: they are not `Item`s, they are validated
separately and `to_contract` leaves them out, because they never leave the survey
service except in the HR-restricted research export.
"""

import hashlib
import json
import re
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from typing import Annotated, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from forbedring_contracts.events import survey as contract

__all__ = [
    "KNOWN_FACTORS",
    "MAX_QUESTIONS",
    "MIN_ITEMS_PER_FACTOR",
    "MIN_QUESTIONS",
    "AnswerScale",
    "BackgroundBlock",
    "BackgroundOption",
    "BackgroundQuestion",
    "Factor",
    "Item",
    "Questionnaire",
    "QuestionnaireFileError",
    "ScalePoint",
    "Section",
    "Texts",
    "UnknownQuestionnaireVersionError",
    "YesNoLabels",
    "available_versions",
    "checksum",
    "load_questionnaire",
    "to_contract",
]

KNOWN_FACTORS: frozenset[str] = frozenset(
    {
        "engagement",
        "teamwork_climate",
        "safety_climate",
        "working_conditions",
        "nearest_leader",
        "physical_environment",
        "action_plan_follow_up",
        "climate_environment",
    }
)
"""The factors reports know. A factor id keeps its meaning across versions, so results
can be followed over the years; a new factor is added here together with its reports."""

MIN_QUESTIONS = 35
MAX_QUESTIONS = 45
"""Bounds on the number of questions, counting scale, yes/no and background questions
(about 10 minutes to answer)."""

MIN_ITEMS_PER_FACTOR = 3
"""A factor score is a mean of items; fewer than three makes it unreliable."""

_PACKAGE = "forbedring_survey"
_DATA_DIR = "questionnaires"
_SUFFIX = ".yaml"
_VERSION_PATTERN = re.compile(r"^[0-9]{4}\.[0-9]{1,3}$")

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)]
"""An id or option code: lower case letters, digits and underscores; fits a contract Id."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

DONT_KNOW: Literal["dont_know"] = "dont_know"
YES: Literal["yes"] = "yes"
NO: Literal["no"] = "no"


class _Frozen(BaseModel):
    """Immutable once built, and strict about the data file: unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Texts(_Frozen):
    """One text in each of the survey's languages; none may be missing or blank. A text
    may hold paragraph breaks as newlines."""

    nb: Text = Field(description="Norwegian bokmål.")
    nn: Text = Field(description="Norwegian nynorsk.")
    en: Text = Field(description="English.")

    def get(self, language: Literal["nb", "nn", "en"]) -> str:
        """The text in `language`."""
        text: str = getattr(self, language)
        return text


class ScalePoint(_Frozen):
    """One point of the agreement scale."""

    value: Annotated[int, Field(strict=True, ge=1, le=5)]
    label: Texts


class AnswerScale(_Frozen):
    """The shared answer scale: 1 Strongly disagree ... 5 Strongly agree, in that order,
    plus "Don't know / not relevant" (answered as `dont_know`)."""

    points: tuple[ScalePoint, ...]
    dont_know: Texts

    @model_validator(mode="after")
    def _one_to_five(self) -> Self:
        if tuple(point.value for point in self.points) != (1, 2, 3, 4, 5):
            raise ValueError("the answer scale must have the points 1, 2, 3, 4, 5 in order")
        return self


class YesNoLabels(_Frozen):
    """The labels of the answers `yes` and `no`."""

    yes: Texts
    no: Texts


class Factor(_Frozen):
    """A factor (theme) that scale items are scored into."""

    id: Code
    name: Texts


class Item(_Frozen):
    """One scored question: a scale statement or a yes/no question.

    A scale item must say, in the data, which factor it belongs to (`null` for a single
    item reported by itself, such as overall satisfaction) and whether it is
    reverse-scored. A yes/no item has no factor and is never reverse-scored.
    """

    id: Code
    kind: Literal["scale", "yes_no"]
    factor: Code | None = None
    reverse_scored: StrictBool = False
    sensitive: StrictBool = False
    required: StrictBool = True
    text: Texts

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind == "scale":
            missing = {"factor", "reverse_scored"} - self.model_fields_set
            if missing:
                raise ValueError(
                    f"scale item {self.id}: say {' and '.join(sorted(missing))} explicitly"
                )
            if self.sensitive:
                raise ValueError(f"scale item {self.id}: only yes/no items can be sensitive")
        else:
            if self.factor is not None:
                raise ValueError(f"yes/no item {self.id}: yes/no items have no factor")
            if self.reverse_scored:
                raise ValueError(f"yes/no item {self.id}: yes/no items are not reverse-scored")
        if self.sensitive and self.required:
            raise ValueError(f"item {self.id}: a sensitive item may always be skipped")
        return self


class Section(_Frozen):
    """A page of the form: a title, an optional introduction and its items in order."""

    id: Code
    title: Texts
    intro: Texts | None = None
    items: tuple[Item, ...] = Field(min_length=1)


class BackgroundOption(_Frozen):
    """One answer option of a background question."""

    code: Code
    label: Texts


class BackgroundQuestion(_Frozen):
    """A single-choice background question, answered with one option code."""

    id: Code
    text: Texts
    options: tuple[BackgroundOption, ...] = Field(min_length=2)
    required: StrictBool = False

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        duplicates = _duplicates(option.code for option in self.options)
        if duplicates:
            raise ValueError(
                f"background question {self.id}: duplicate option codes {', '.join(duplicates)}"
            )
        return self

    @property
    def option_codes(self) -> frozenset[str]:
        return frozenset(option.code for option in self.options)


class BackgroundBlock(_Frozen):
    """The background variables, shown last and kept apart from the scored items."""

    title: Texts
    intro: Texts
    questions: tuple[BackgroundQuestion, ...]


class Questionnaire(_Frozen):
    """One version of the questionnaire, validated and immutable."""

    version: Annotated[str, StringConstraints(pattern=_VERSION_PATTERN.pattern)]
    estimated_minutes: Annotated[int, Field(strict=True, ge=1, le=60)]
    title: Texts
    intro: Texts
    instructions: Texts
    answer_scale: AnswerScale
    yes_no: YesNoLabels
    factors: tuple[Factor, ...]
    sections: tuple[Section, ...] = Field(min_length=1)
    background: BackgroundBlock

    @property
    def items(self) -> tuple[Item, ...]:
        """Every scored item (scale and yes/no), in the order respondents see them."""
        return tuple(item for section in self.sections for item in section.items)

    @property
    def question_count(self) -> int:
        """Scale, yes/no and background questions together."""
        return len(self.items) + len(self.background.questions)

    def item(self, item_id: str) -> Item:
        """The item with this id; `KeyError` if there is none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def factor_items(self, factor_id: str) -> tuple[Item, ...]:
        """The items scored into `factor_id`, in order."""
        return tuple(item for item in self.items if item.factor == factor_id)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[str] = []
        question_ids = [item.id for item in self.items] + [
            question.id for question in self.background.questions
        ]
        for duplicate in _duplicates(question_ids):
            problems.append(f"duplicate question id {duplicate}")
        for duplicate in _duplicates(section.id for section in self.sections):
            problems.append(f"duplicate section id {duplicate}")
        for duplicate in _duplicates(factor.id for factor in self.factors):
            problems.append(f"duplicate factor id {duplicate}")

        declared = {factor.id for factor in self.factors}
        for unknown in sorted(declared - KNOWN_FACTORS):
            problems.append(f"unknown factor {unknown} (known: {', '.join(sorted(KNOWN_FACTORS))})")
        for item in self.items:
            if item.factor is not None and item.factor not in declared:
                problems.append(f"item {item.id}: factor {item.factor} is not declared")
        for factor in self.factors:
            count = len(self.factor_items(factor.id))
            if count < MIN_ITEMS_PER_FACTOR:
                problems.append(
                    f"factor {factor.id} has {count} items, needs at least {MIN_ITEMS_PER_FACTOR}"
                )

        if not MIN_QUESTIONS <= self.question_count <= MAX_QUESTIONS:
            problems.append(
                f"{self.question_count} questions (scale, yes/no and background together); "
                f"a questionnaire has {MIN_QUESTIONS} to {MAX_QUESTIONS}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    duplicates: list[str] = []
    for value in values:
        if value in seen and value not in duplicates:
            duplicates.append(value)
        seen.add(value)
    return duplicates


# --- loading ---------------------------------------------------------------------------


class UnknownQuestionnaireVersionError(LookupError):
    """No questionnaire file exists for the requested version."""


class QuestionnaireFileError(ValueError):
    """A questionnaire file exists but is not the version its name says."""


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def available_versions() -> tuple[str, ...]:
    """Every questionnaire version shipped with the package, oldest first."""
    directory = files(_PACKAGE).joinpath(_DATA_DIR)
    versions = [
        entry.name.removesuffix(_SUFFIX)
        for entry in directory.iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    ]
    return tuple(sorted((v for v in versions if _VERSION_PATTERN.match(v)), key=_version_key))


@cache
def load_questionnaire(version: str) -> Questionnaire:
    """The questionnaire `version` (e.g. `"2026.1"`), validated.

    Raises `UnknownQuestionnaireVersionError` when no such version ships,
    `QuestionnaireFileError` when the file names another version, and pydantic's
    `ValidationError` (a `ValueError`) when the file breaks a rule. The result is
    immutable and cached: every call for a version returns the same object.
    """
    if not _VERSION_PATTERN.match(version) or version not in available_versions():
        raise UnknownQuestionnaireVersionError(version)
    raw = files(_PACKAGE).joinpath(_DATA_DIR, version + _SUFFIX).read_text(encoding="utf-8")
    data = yaml.safe_load(raw)
    if not isinstance(data, dict) or data.get("version") != version:
        raise QuestionnaireFileError(f"{version}{_SUFFIX} does not declare version {version!r}")
    return Questionnaire.model_validate(data)


def checksum(questionnaire: Questionnaire) -> str:
    """A fingerprint of the questionnaire's content, `sha256:<hex>`.

    Computed over canonical JSON (sorted keys, no whitespace, values left at their
    defaults omitted), so it ignores the file's layout and comments, and does not move
    when the model later grows a field with a default. A period can store it next to its
    version and check that the version it pinned still means the same.
    """
    canonical = json.dumps(
        questionnaire.model_dump(mode="json", exclude_defaults=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- the contract ----------------------------------------------------------------------


def to_contract(questionnaire: Questionnaire) -> contract.Questionnaire:
    """The questionnaire as `PeriodOpened.questionnaire` carries it: factors and items in
    order. Not carried (they stay in this service): the version (a field of the event
    itself), sections, required flags, the intro, the answer labels and the background
    questions."""
    return contract.Questionnaire(
        factors=tuple(
            contract.Factor(factor_id=factor.id, name=_contract_texts(factor.name))
            for factor in questionnaire.factors
        ),
        items=tuple(
            contract.Item(
                item_id=item.id,
                kind=item.kind,
                factor_id=item.factor,
                reverse_scored=item.reverse_scored,
                sensitive=item.sensitive,
                text=_contract_texts(item.text),
            )
            for item in questionnaire.items
        ),
    )


def _contract_texts(texts: Texts) -> contract.Texts:
    return contract.Texts(nb=texts.nb, nn=texts.nn, en=texts.en)
