"""What the survey stores, as the repository hands it back (the tables are in the
migrations). A response never appears here with a person, a time or a sequence."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

PeriodStatus = Literal["scheduled", "open", "closed"]


@dataclass(frozen=True)
class Period:
    id: str
    organisation_id: str
    name: str
    opens_at: datetime
    closes_at: datetime
    stage_1_delay: timedelta
    stage_2_delay: timedelta
    plan_deadline: date
    k: int
    sensitive_k: int
    questionnaire_version: str
    questionnaire_checksum: str
    status: PeriodStatus
    organisation_imported: bool
    opened_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class StoredUnit:
    unit_id: str
    parent_id: str | None
    name: str
    kind: str
    level: str
    eligible: int


@dataclass(frozen=True)
class StoredRole:
    employee_id: str
    unit_id: str
    role: str
    name: str
    email: str
    language: str


@dataclass(frozen=True)
class Invitation:
    """One survey a person may answer: for one unit of one period."""

    id: UUID
    period_id: str
    unit_id: str
    unit_name: str
    answered: bool
    questionnaire_version: str
    period_name: str
    period_status: PeriodStatus
    closes_at: datetime


@dataclass(frozen=True)
class HeldResponse:
    """A response taken out of the pending table for release."""

    id: UUID
    unit_id: str
    questionnaire_version: str
    answers: dict[str, Any]


@dataclass(frozen=True)
class UnitCount:
    unit_id: str
    respondents: int
    eligible: int
