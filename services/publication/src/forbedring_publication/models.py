"""The publication read model: periods with their release schedule, each unit's final
results as received, and the period's directory (units and role assignments)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from forbedring_chassis.db import DirectoryUnitColumns, UnitResultColumns, moment_column

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
    finalized_at: datetime | None = moment_column(nullable=True)
    complete: bool = False
    postponed: bool = False
    stage_1_at: datetime | None = moment_column(nullable=True)
    stage_2_at: datetime | None = moment_column(nullable=True)
    stage_1_released_at: datetime | None = moment_column(nullable=True)
    stage_2_released_at: datetime | None = moment_column(nullable=True)


class UnitResultRow(UnitResultColumns, table=True):
    """A unit-results event's value exactly as the contract encodes it (the checksum is
    over these bytes)."""

    __tablename__ = "publication_unit_results"

    published: bool


class DirectoryUnit(DirectoryUnitColumns, table=True):
    __tablename__ = "publication_directory_units"


class RoleRow(SQLModel, table=True):
    __tablename__ = "publication_role_assignments"

    period_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    role: str = Field(primary_key=True)
