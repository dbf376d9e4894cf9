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


class MeasureEscalated(Event):
    """A measure was lifted from a unit's plan to the plan one level up."""

    plan_id: Id = Field(description="The plan the measure was lifted from.")
    period_id: Id = Field(description="The survey period the plans follow up.")
    measure_id: Id = Field(description="The measure.")
    unit_id: Id = Field(description="The unit whose plan lifted the measure.")
    to_unit_id: Id = Field(description="The unit whose plan now holds it (usually the parent).")
    title: str = Field(min_length=1, description="What the measure is.")
    escalated_at: AwareDatetime = Field(description="When it was lifted.")


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
