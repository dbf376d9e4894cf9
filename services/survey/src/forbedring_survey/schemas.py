"""What the JSON API takes and gives."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field

from forbedring_survey.domain.questionnaire import Questionnaire
from forbedring_survey.models import Invitation, Period, PeriodFields
from forbedring_survey.participation import UnitParticipation


class PeriodCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    opens_at: AwareDatetime
    closes_at: AwareDatetime | None = Field(default=None, description="Default: 6 weeks later")
    stage_1_delay: timedelta | None = Field(
        default=None, description="Results finalised to release stage 1; default none"
    )
    stage_2_delay: timedelta | None = Field(
        default=None, description="Stage 1 to stage 2 (everyone); default 7 days"
    )
    plan_deadline: date | None = Field(
        default=None, description="Default: the first 30 June after closing"
    )
    k: int = Field(default=5, ge=1)
    sensitive_k: int = Field(default=10, ge=1)
    questionnaire_version: str = Field(min_length=1, max_length=64)


class PeriodPublic(PeriodFields):
    """A period as the API shows it: the table's fields but the questionnaire checksum."""

    @classmethod
    def of(cls, period: Period) -> "PeriodPublic":
        return cls.model_validate(period, from_attributes=True)


QuestionnairePublic = Questionnaire
"""A questionnaire version as its data file gives it: the validated, frozen domain model
is its own public form (every text, item, factor and background question)."""


class ImportAccepted(BaseModel):
    period_id: str
    invitations: int


class PeriodClosedPublic(BaseModel):
    period_id: str
    totals: dict[str, int] = Field(description="Responses released per unit (the unit itself)")


class InvitationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    invitation_id: UUID = Field(validation_alias=AliasChoices("invitation_id", "id"))
    period_id: str
    period_name: str
    unit_id: str
    unit_name: str
    answered: bool
    questionnaire_version: str
    closes_at: datetime

    @classmethod
    def of(cls, invitation: Invitation) -> "InvitationPublic":
        return cls.model_validate(invitation)


class SubmissionCreate(BaseModel):
    invitation_id: UUID
    answers: dict[str, Any] = Field(
        description="Item id to 1-5 or `dont_know` (scale items), `yes`/`no` (yes/no items)"
    )
    background: dict[str, Any] = Field(
        default_factory=dict, description="Background question id to an option code"
    )


class SubmissionAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str = "Thank you. Your answers are stored anonymously."


class UnitParticipationPublic(BaseModel):
    unit_id: str
    parent_id: str | None
    name: str
    level: str
    respondents: int
    eligible: int
    rate: float | None = Field(description="Percent answered, the unit itself")
    respondents_including_subunits: int
    eligible_including_subunits: int
    rate_including_subunits: float | None

    @classmethod
    def of(cls, unit: UnitParticipation) -> "UnitParticipationPublic":
        return cls(
            unit_id=unit.unit_id,
            parent_id=unit.parent_id,
            name=unit.name,
            level=unit.level,
            respondents=unit.respondents,
            eligible=unit.eligible,
            rate=unit.rate,
            respondents_including_subunits=unit.respondents_including_subunits,
            eligible_including_subunits=unit.eligible_including_subunits,
            rate_including_subunits=unit.rate_including_subunits,
        )


class ParticipationPublic(BaseModel):
    period_id: str
    units: list[UnitParticipationPublic]

    @classmethod
    def of(cls, period_id: str, units: Sequence[UnitParticipation]) -> "ParticipationPublic":
        return cls(period_id=period_id, units=[UnitParticipationPublic.of(u) for u in units])


class RolePublic(BaseModel):
    unit_id: str
    role: str


class MePublic(BaseModel):
    employee_id: str
    name: str | None = Field(description="From the directory; null when not in it")
    language: Literal["nb", "nn", "en"] | None
    roles: list[RolePublic] = Field(description="From the directory, never from the token")
