"""The publication read model: periods with their release schedule, each unit's final
results as received, and the period's directory (units and role assignments)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, LargeBinary
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def _at(**kwargs: Any) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), **kwargs))


# Table names carry the service's name: every service's models share SQLModel's metadata
# when several services run in one process (the cross-service tests).


class Period(SQLModel, table=True):
    __tablename__ = "publication_periods"

    period_id: str = Field(primary_key=True)
    name: str | None = None
    stage_1_delay_s: float | None = None
    stage_2_delay_s: float | None = None
    questionnaire: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONB, nullable=True)
    )
    unit_count: int | None = None
    checksum: str | None = None
    finalized_at: datetime | None = _at(nullable=True)
    complete: bool = False
    postponed: bool = False
    stage_1_at: datetime | None = _at(nullable=True)
    stage_2_at: datetime | None = _at(nullable=True)
    stage_1_released_at: datetime | None = _at(nullable=True)
    stage_2_released_at: datetime | None = _at(nullable=True)


class UnitResultRow(SQLModel, table=True):
    """A unit-results event's value exactly as the contract encodes it (the checksum is
    over these bytes)."""

    __tablename__ = "publication_unit_results"

    period_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    published: bool
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class DirectoryUnit(SQLModel, table=True):
    __tablename__ = "publication_directory_units"

    period_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    parent_id: str | None = None
    name: str
    level: str


class RoleRow(SQLModel, table=True):
    __tablename__ = "publication_role_assignments"

    period_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    role: str = Field(primary_key=True)
