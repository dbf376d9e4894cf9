"""Events the actionplan service publishes: plans, escalated measures, deadlines."""

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field

from forbedring_contracts.events.base import Count, Event, Id


class PlanUpdated(Event):
    """A unit's action plan for a period was created or changed."""

    plan_id: Id = Field(description="The plan.")
    period_id: Id = Field(description="The survey period the plan follows up.")
    unit_id: Id = Field(description="The unit the plan belongs to.")
    status: Literal["draft", "active", "completed"] = Field(
        description="`draft`: being written; `active`: agreed and followed up; "
        "`completed`: evaluated and closed."
    )
    measure_count: Count = Field(description="Measures in the plan.")
    completed_measure_count: Count = Field(description="Measures marked done.")
    deadline: date = Field(description="When the plan is due.")
    updated_at: AwareDatetime = Field(description="When the plan changed.")
    version: Count = Field(
        default=0,
        description="Completed versions stored so far; each completion stores an immutable one.",
    )
    desired_quality: bool = Field(
        default=False,
        description="True when the plan meets the quality checklist: results discussed with "
        "the staff, every measure with a responsible person, a deadline and a desired effect, "
        "and at least one measure linked to a focus area.",
    )
    measures_done_by_deadline: Count = Field(
        default=0, description="Measures marked done on or before their own deadline."
    )


class MeasureEscalated(Event):
    """A measure was lifted from a unit's plan to the plan one level up."""

    plan_id: Id = Field(description="The plan the measure was lifted from.")
    period_id: Id = Field(description="The survey period the plans follow up.")
    measure_id: Id = Field(description="The measure.")
    unit_id: Id = Field(description="The unit whose plan lifted the measure.")
    to_unit_id: Id = Field(description="The unit whose plan now holds it (usually the parent).")
    title: str = Field(min_length=1, description="What the measure is.")
    escalated_at: AwareDatetime = Field(description="When it was lifted.")
    step: Literal["escalated", "accepted", "declined"] = Field(
        default="escalated",
        description="`escalated`: lifted and waiting for the parent's leader; `accepted`: it "
        "is now a measure of the parent's plan; `declined`: it went back to the unit.",
    )
    reason: str | None = Field(
        default=None, description="Why it was lifted, or why it was declined."
    )
    to_measure_id: Id | None = Field(
        default=None, description="The measure it became in the parent's plan, once accepted."
    )
    leader_person_ids: tuple[Id, ...] = Field(
        default=(), description="Leaders of the unit that lifted it (told of accept or decline)."
    )
    to_leader_person_ids: tuple[Id, ...] = Field(
        default=(), description="Leaders of the unit it was lifted to (asked to decide)."
    )


class PlanDeadlineApproaching(Event):
    """A unit's action plan is due soon and is not completed (or does not exist yet)."""

    plan_id: Id | None = Field(description="The plan; null when the unit has none yet.")
    period_id: Id = Field(description="The survey period.")
    unit_id: Id = Field(description="The unit.")
    deadline: date = Field(description="When the plan is due.")
    days_left: Count = Field(description="Whole days from today to the deadline.")
    leader_person_ids: tuple[Id, ...] = Field(
        description="Person ids of the unit's leaders to remind (see directory-updated)."
    )
    subject: Literal["plan", "measure"] = Field(
        default="plan", description="Whether the plan or one of its measures is due."
    )
    measure_id: Id | None = Field(default=None, description="The measure, for a measure.")
    measure_title: str | None = Field(default=None, description="What the measure is.")
    threshold_days: int | None = Field(
        default=None,
        description="The reminder this is: 30, 14, 7 or 1 days before, or 0 once overdue.",
    )
    overdue: bool = Field(default=False, description="True once the deadline has passed.")
    days_overdue: Count = Field(default=0, description="Whole days past the deadline.")
    responsible_person_ids: tuple[Id, ...] = Field(
        default=(), description="For a measure: the person responsible for it."
    )
    parent_leader_person_ids: tuple[Id, ...] = Field(
        default=(), description="Leaders of the parent unit (told when a plan is overdue)."
    )
    missing: tuple[str, ...] = Field(
        default=(),
        description="What the plan still lacks, as checklist codes (e.g. "
        "`staff_discussion`, `measure_responsible`); no result figure ever.",
    )
