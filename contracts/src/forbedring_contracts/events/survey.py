"""Events the survey service publishes: periods, the directory, responses, participation."""

from datetime import date, timedelta
from typing import Annotated, ClassVar, Literal

from pydantic import UUID4, AwareDatetime, EmailStr, Field, field_validator

from forbedring_contracts.events.base import (
    ContractModel,
    Count,
    Event,
    Id,
    Language,
    Role,
    TimePrecision,
)

# --- parts -----------------------------------------------------------------------------


class Texts(ContractModel):
    """One text in each of the survey's languages."""

    nb: str = Field(min_length=1, description="Norwegian bokmål.")
    nn: str = Field(min_length=1, description="Norwegian nynorsk.")
    en: str = Field(min_length=1, description="English.")


class Factor(ContractModel):
    """A factor (theme) that scale items are scored into, e.g. safety climate."""

    factor_id: Id = Field(description="The factor's id, stable across questionnaire versions.")
    name: Texts = Field(description="The factor's name as reports show it.")


class Item(ContractModel):
    """One question of the questionnaire."""

    item_id: Id = Field(description="The item's id; the keys of a response's answers.")
    kind: Literal["scale", "yes_no"] = Field(
        description="`scale`: 1-5 agreement or don't know; `yes_no`: yes or no."
    )
    factor_id: Id | None = Field(
        description="The factor a scale item is scored into; null for items outside factors."
    )
    reverse_scored: bool = Field(
        description="True when agreement is the unfavourable answer (score flipped)."
    )
    sensitive: bool = Field(
        description="True for items (bullying, harassment, violence) suppressed with the "
        "higher threshold `sensitive_k` as a table of their own."
    )
    text: Texts = Field(description="The question as the respondent reads it.")


class Questionnaire(ContractModel):
    """The questionnaire a period pins: its factors and items (background variables stay
    inside the survey service and are never part of any event)."""

    factors: tuple[Factor, ...] = Field(description="Every factor items are scored into.")
    items: tuple[Item, ...] = Field(description="Every item, in the order respondents see them.")


class Unit(ContractModel):
    """A unit of the organisation tree."""

    unit_id: Id = Field(description="The unit's id (the HR system's unit code).")
    parent_id: Id | None = Field(description="The parent unit's id; null for the root.")
    name: str = Field(min_length=1, description="The unit's name.")
    level: str = Field(
        min_length=1,
        max_length=32,
        description="The unit's level as HR names it, e.g. `1` (enterprise), `2.1`, `3`.",
    )


class UnitInScope(Unit):
    """A unit of the period's frozen tree and how many may answer directly for it."""

    eligible: Count = Field(
        description="Invitations for this unit itself, not counting its sub-units."
    )


class RoleAssignment(ContractModel):
    """A person holding a role for a unit, with what notification needs to reach them."""

    person_id: Id = Field(description="The person's employee id.")
    unit_id: Id = Field(description="The unit the role is held for.")
    role: Role = Field(description="The role.")
    name: str = Field(min_length=1, description="The person's full name.")
    email: EmailStr = Field(description="Where to email the person.")
    language: Language = Field(description="The person's preferred language.")


class Membership(ContractModel):
    """A person invited to answer for a unit: whom a unit's plan and mail concern. It says
    nothing about whether the person has answered."""

    person_id: Id = Field(description="The person's employee id.")
    unit_id: Id = Field(description="A unit the person works in (one row per unit).")
    name: str = Field(min_length=1, description="The person's full name.")
    email: EmailStr = Field(description="Where to email the person.")
    language: Language = Field(description="The person's preferred language.")


# --- events ----------------------------------------------------------------------------


class PeriodOpened(Event):
    """A survey period opened: the questionnaire it pins, its thresholds and schedule, and
    the organisation tree, frozen for the period, with each unit's eligible count."""

    period_id: Id = Field(description="The period's id.")
    organisation_id: Id = Field(description="The organisation (trust) the period belongs to.")
    name: str = Field(min_length=1, description="The period's name, e.g. `ForBedring 2026`.")
    opens_at: AwareDatetime = Field(description="When answering opened.")
    closes_at: AwareDatetime = Field(description="When answering is scheduled to close.")
    questionnaire_version: Id = Field(description="The questionnaire version the period pins.")
    questionnaire: Questionnaire = Field(description="That questionnaire's factors and items.")
    k: int = Field(ge=1, description="Fewest respondents for a unit to get results.")
    sensitive_k: int = Field(ge=1, description="The same threshold for sensitive items.")
    stage_1_delay: timedelta = Field(
        description="Time from results-finalized to release stage 1 (leaders and "
        "representatives), ISO 8601 duration."
    )
    stage_2_delay: timedelta = Field(
        description="Time from stage 1 to stage 2 (every employee), ISO 8601 duration."
    )
    plan_deadline: date = Field(description="When every unit's action plan is due.")
    units: tuple[UnitInScope, ...] = Field(description="Every unit of the period's tree.")


class DirectoryUpdated(Event):
    """The directory of a period, whole: the unit tree and who holds which role. Each event
    replaces the previous one for the period. Personal data here is only what is needed to
    address people; nothing about who has answered ever appears on this topic."""

    period_id: Id = Field(description="The period the directory is for.")
    units: tuple[Unit, ...] = Field(description="Every unit of the tree.")
    roles: tuple[RoleAssignment, ...] = Field(description="Every role assignment.")
    members: tuple[Membership, ...] = Field(
        default=(),
        description="Every person invited for each unit: the staff a unit's plan and the "
        "release and reminder emails concern. Never who has answered. Empty from producers "
        "older than this field.",
    )


ScaleAnswer = Annotated[int, Field(strict=True, ge=1, le=5)]
"""1 Strongly disagree, 2 Disagree somewhat, 3 Neither, 4 Agree somewhat, 5 Strongly agree."""

Answer = ScaleAnswer | Literal["dont_know", "yes", "no"]


class ResponseSubmitted(Event):
    """One anonymous response. It carries a random id, the unit, the questionnaire version
    and the answers, and nothing else: no person, no invitation, no sequence, no time. Its
    envelope time is coarsened to the day of the release batch, and responses are released
    per unit in shuffled groups, so neither order nor time links a response to a person."""

    time_precision: ClassVar[TimePrecision] = TimePrecision.DAY

    response_id: UUID4 = Field(description="A random (version 4) UUID; orders and dates nothing.")
    period_id: Id = Field(description="The period answered.")
    unit_id: Id = Field(description="The unit the response counts for (its invitation's unit).")
    questionnaire_version: Id = Field(description="The questionnaire version answered.")
    answers: dict[Id, Answer] = Field(
        description="Item id to answer: 1-5 or `dont_know` for scale items, `yes` or `no` "
        "for yes/no items. Items left unanswered are absent."
    )


class ParticipationChanged(Event):
    """A unit's participation count changed. Counts only; respondent counts are public."""

    time_precision: ClassVar[TimePrecision] = TimePrecision.MINUTE

    period_id: Id = Field(description="The period.")
    unit_id: Id = Field(description="The unit.")
    respondents: Count = Field(
        description="Responses for this unit itself so far, not counting its sub-units."
    )
    eligible: Count = Field(
        description="Invitations for this unit itself, not counting its sub-units."
    )
    as_of: AwareDatetime = Field(description="When the counts were taken, to the minute.")

    @field_validator("as_of")
    @classmethod
    def _to_the_minute(cls, value: AwareDatetime) -> AwareDatetime:
        return TimePrecision.MINUTE.coarsen(value)


class PeriodClosed(Event):
    """A period closed, and every response of it has been released to the bus. The totals
    let a consumer know when it has seen them all."""

    period_id: Id = Field(description="The period.")
    closed_at: AwareDatetime = Field(description="When answering closed.")
    totals: dict[Id, Count] = Field(
        description="Unit id to the number of responses released for that unit itself (not "
        "counting sub-units), for every unit of the period's tree."
    )
