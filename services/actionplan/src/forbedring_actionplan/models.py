"""The actionplan service's tables: its copy of the periods, directory and unit results
(learnt from events), and what it owns: plans, their dialogue, measures, escalations,
comments, history, immutable versions and the reminder ledger.

No table holds a result figure: a plan keeps only which items or factors are its focus
areas (ids), never a number (`docs/suppression.md`)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Date, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from forbedring_chassis.db import DirectoryUnitColumns, UnitResultColumns, moment_column


class Period(SQLModel, table=True):
    __tablename__ = "actionplan_periods"

    period_id: str = Field(primary_key=True)
    organisation_id: str | None = None
    name: str | None = None
    plan_deadline: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    opens_at: datetime | None = moment_column(nullable=True)
    questionnaire: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONB, nullable=True)
    )
    unit_count: int | None = None
    stage_1_released_at: datetime | None = moment_column(nullable=True)
    stage_2_released_at: datetime | None = moment_column(nullable=True)
    plans_opened: bool = False


class DirectoryUnit(DirectoryUnitColumns, table=True):
    __tablename__ = "actionplan_units"


class Person(SQLModel, table=True):
    """A person of the period's directory for a unit: a role (`leader`, `safety_rep`,
    `union_rep`, `hr_admin`) or `member` (invited for the unit). Never who answered."""

    __tablename__ = "actionplan_people"

    period_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    role: str = Field(primary_key=True)
    name: str


class UnitResultRow(UnitResultColumns, table=True):
    """A unit-results event as received, read only to find the focus areas when plans
    open (item ids; no figure of it is ever copied into a plan)."""

    __tablename__ = "actionplan_unit_results"


class Plan(SQLModel, table=True):
    __tablename__ = "actionplan_plans"
    __table_args__ = (UniqueConstraint("period_id", "unit_id"),)

    plan_id: str = Field(primary_key=True)
    period_id: str = Field(index=True)
    unit_id: str
    deadline: date = Field(sa_column=Column(Date, nullable=False))
    version: int = 0
    revision: int = 1
    changed_since_version: bool = False
    focus_source: str = "none"
    focus_source_unit_id: str | None = None
    opened_at: datetime = moment_column(nullable=False)
    updated_at: datetime = moment_column(nullable=False)


class FocusArea(SQLModel, table=True):
    __tablename__ = "actionplan_focus_areas"

    plan_id: str = Field(primary_key=True)
    ref_id: str = Field(primary_key=True)
    kind: str  # follow_up | strength
    factor_id: str | None = None
    position: int = 0
    decision: str = "suggested"  # suggested | accepted | dismissed


class DialogueEntry(SQLModel, table=True):
    __tablename__ = "actionplan_dialogue"

    entry_id: str = Field(primary_key=True)
    plan_id: str = Field(index=True)
    step: str
    held_on: date = Field(sa_column=Column(Date, nullable=False))
    note: str = ""
    recorded_by: str
    recorded_at: datetime = moment_column(nullable=False)


class Measure(SQLModel, table=True):
    __tablename__ = "actionplan_measures"

    measure_id: str = Field(primary_key=True)
    plan_id: str = Field(index=True)
    position: int = 0
    """Its place in the plan: measures are listed in the order they were added."""
    category: str
    linked_id: str | None = None
    title: str
    description: str = ""
    responsible_person_id: str | None = None
    deadline: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    desired_effect: str = ""
    extra_resources: str = ""
    continued: bool = False
    status: str = "planned"
    cancel_reason: str | None = None
    done_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    evaluation_done: str = ""
    evaluation_observed: str = ""
    evaluation_decision: str | None = None
    origin_measure_id: str | None = None
    carried_from_measure_id: str | None = None
    escalated_to_measure_id: str | None = None
    revision: int = 1
    created_at: datetime = moment_column(nullable=False)


class Escalation(SQLModel, table=True):
    __tablename__ = "actionplan_escalations"

    escalation_id: str = Field(primary_key=True)
    measure_id: str = Field(index=True)
    from_plan_id: str
    to_plan_id: str = Field(index=True)
    reason: str
    status: str = "pending"  # pending | accepted | declined
    escalated_by: str
    escalated_at: datetime = moment_column(nullable=False)
    decided_by: str | None = None
    decided_at: datetime | None = moment_column(nullable=True)
    decline_reason: str | None = None
    to_measure_id: str | None = None


class Comment(SQLModel, table=True):
    __tablename__ = "actionplan_comments"

    comment_id: str = Field(primary_key=True)
    plan_id: str = Field(index=True)
    person_id: str
    text: str
    at: datetime = moment_column(nullable=False)


class HistoryEntry(SQLModel, table=True):
    __tablename__ = "actionplan_history"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    plan_id: str = Field(index=True)
    at: datetime = moment_column(nullable=False)
    person_id: str
    action: str
    summary: str | None = None
    """The English sentence of an entry written before `params` existed (else null)."""
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    """What `history.text` needs to say the change in any language."""
    measure_id: str | None = None


class PlanVersion(SQLModel, table=True):
    """A completed plan as it was: written once, never updated."""

    __tablename__ = "actionplan_versions"

    plan_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    completed_by: str
    completed_at: datetime = moment_column(nullable=False)
    snapshot: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class Reminder(SQLModel, table=True):
    """One row per (plan or measure, its deadline, threshold) ever reached: the unique key
    makes each reminder leave once, whichever replica reaches it first, in the same
    transaction as its event. `sent` is false for a threshold passed without a reminder
    (it was already past when the deadline was set, or a later one was due)."""

    __tablename__ = "actionplan_reminders"

    subject_id: str = Field(primary_key=True)
    deadline: date = Field(sa_column=Column(Date, primary_key=True))
    threshold: int = Field(primary_key=True)
    subject: str
    sent: bool
    at: datetime = moment_column(nullable=False)
