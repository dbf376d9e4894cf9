"""What the survey stores, as the repository hands it back (the tables are in the
migrations). A response never appears here with a person, a time or a sequence.

A period is a SQLModel table model: its fields are written once, here. The API's
`PeriodPublic` derives from `PeriodFields`, and the repository's statements from the
table. The other records are the shapes of queries (joins and counts), not tables.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Dialect, String
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

PeriodStatus = Literal["scheduled", "open", "closed"]


class SurveyModel(SQLModel, registry=registry()):
    """The survey's own table registry: other services in the same process (tests) have
    tables of the same name (`periods`) in theirs."""


class Seconds(TypeDecorator[timedelta]):
    """A duration stored as whole seconds (`BIGINT`)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: timedelta | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value.total_seconds())

    def process_result_value(self, value: int | None, dialect: Dialect) -> timedelta | None:
        return None if value is None else timedelta(seconds=value)


class PeriodFields(SurveyModel):
    """A period as everyone may see it (the API answers with these fields)."""

    id: str = Field(primary_key=True)
    organisation_id: str
    name: str
    opens_at: datetime = Field(sa_type=DateTime(timezone=True))
    closes_at: datetime = Field(sa_type=DateTime(timezone=True))
    stage_1_delay: timedelta = Field(sa_type=Seconds, sa_column_kwargs={"name": "stage_1_delay_s"})
    stage_2_delay: timedelta = Field(sa_type=Seconds, sa_column_kwargs={"name": "stage_2_delay_s"})
    plan_deadline: date
    k: int
    sensitive_k: int
    questionnaire_version: str
    status: PeriodStatus = Field(sa_type=String)
    organisation_imported: bool
    opened_at: datetime | None = Field(sa_type=DateTime(timezone=True))
    closed_at: datetime | None = Field(sa_type=DateTime(timezone=True))


class Period(PeriodFields, table=True):
    """A survey period: when it runs, its release rules and the questionnaire it pins."""

    __tablename__ = "periods"

    questionnaire_checksum: str


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
class StoredMember:
    employee_id: str
    unit_id: str
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
