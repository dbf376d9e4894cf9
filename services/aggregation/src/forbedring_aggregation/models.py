"""Tables of the aggregation service (SQL lives in `repository.py`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from forbedring_chassis.db import UnitResultColumns


class UnitCount(SQLModel, table=True):
    """Counters of one unit in one period: the unit's own (direct) respondents, leaf
    counters only. `respondents` counts every response applied for the unit;
    `counters` is the `scoring.Layout` vector, null while the period is not opened yet
    (its responses are held meanwhile, see `HeldResponse`)."""

    __tablename__ = "unit_counts"

    period_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    respondents: int
    counters: list[int] | None = Field(
        default=None, sa_column=Column(ARRAY(Integer), nullable=True)
    )


class Period(SQLModel, table=True):
    """A period as period-opened described it (immutable: the first event wins)."""

    __tablename__ = "periods"

    period_id: str = Field(primary_key=True)
    k: int
    sensitive_k: int
    questionnaire: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    units: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))


class HeldResponse(SQLModel, table=True):
    """A response of a period whose period-opened has not arrived yet. Its respondent is
    counted at once (unit_counts.respondents); its answers wait here and are scored
    when the period opens, in the same transaction that stores the period."""

    __tablename__ = "held_responses"

    response_id: str = Field(primary_key=True)
    period_id: str = Field(index=True)
    unit_id: str
    answers: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class CloseRequest(SQLModel, table=True):
    """A period-closed seen: the totals to wait for. Locked (FOR UPDATE) while an
    instance checks or finalises the period, so it is finalised exactly once."""

    __tablename__ = "close_requests"

    period_id: str = Field(primary_key=True)
    totals: dict[str, int] = Field(sa_column=Column(JSONB, nullable=False))
    closed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finalized_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    blocked: str | None = Field(default=None, description="why it cannot be finalised")


class Snapshot(SQLModel, table=True):
    """A period's final, immutable results snapshot (one per period)."""

    __tablename__ = "snapshots"

    period_id: str = Field(primary_key=True)
    unit_count: int
    published_count: int
    checksum: str
    finalized_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    suppression_method: str = Field(description="the rule that finalised it (a rebuild uses it)")


class SnapshotUnit(UnitResultColumns, table=True):
    """One unit's results in a snapshot: the unit-results message value as published."""

    __tablename__ = "snapshot_units"

    published: bool


class HrAdmin(SQLModel, table=True):
    """Who may read this service's counts and preview for a period: the HR admins that
    directory-updated names (only their ids; nothing else of the directory is kept here,
    beside the answers)."""

    __tablename__ = "hr_admins"

    period_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
