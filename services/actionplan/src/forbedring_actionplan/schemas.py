"""What the JSON API takes and gives. The pages render the same models. No model has a
field for a result figure: focus areas are items named in the reader's language."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Category = Literal["patient_safety", "hse", "climate_environment"]
MeasureStatus = Literal["planned", "in_progress", "done", "cancelled"]
Decision = Literal["adopt", "adapt", "abandon"]
DialogueStep = Literal["leader_above", "representatives", "staff", "staff_review"]
PlanStatus = Literal["draft", "active", "completed"]
FocusDecision = Literal["suggested", "accepted", "dismissed"]

TITLE_MAX = 200
TEXT_MAX = 2000
NOTE_MAX = 1000
Id = str


# --- requests ---------------------------------------------------------------------------


class FocusDecisionUpdate(BaseModel):
    decision: FocusDecision
    revision: int = Field(ge=1, description="The plan's revision the edit was made to.")


class DialogueCreate(BaseModel):
    step: DialogueStep = Field(
        description="`leader_above`, `representatives`, `staff` (the results discussed), "
        "or `staff_review` (a staff meeting reviewed the plan)."
    )
    held_on: date
    note: str = Field(default="", max_length=NOTE_MAX)


class MeasureFields(BaseModel):
    category: Category
    linked_id: str | None = Field(
        default=None, max_length=64, description="A factor or item of the questionnaire."
    )
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(default="", max_length=TEXT_MAX)
    responsible_person_id: str | None = Field(
        default=None, max_length=64, description="Someone in the period's directory."
    )
    deadline: date | None = Field(default=None, description="Today or later.")
    desired_effect: str = Field(default="", max_length=NOTE_MAX)
    extra_resources: str = Field(
        default="", max_length=NOTE_MAX, description="Cost or resources beyond the budget."
    )
    continued: bool = Field(default=False, description="Continued from an earlier plan (**).")


class MeasureCreate(MeasureFields):
    pass


class MeasureUpdate(BaseModel):
    """Only the fields given change. `revision` is the measure's revision the edit was
    made to: a stale one is refused with 409."""

    revision: int = Field(ge=1)
    category: Category | None = None
    linked_id: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    description: str | None = Field(default=None, max_length=TEXT_MAX)
    responsible_person_id: str | None = Field(default=None, max_length=64)
    deadline: date | None = None
    desired_effect: str | None = Field(default=None, max_length=NOTE_MAX)
    extra_resources: str | None = Field(default=None, max_length=NOTE_MAX)
    continued: bool | None = None
    status: MeasureStatus | None = None
    cancel_reason: str | None = Field(default=None, max_length=NOTE_MAX)
    evaluation_done: str | None = Field(default=None, max_length=TEXT_MAX)
    evaluation_observed: str | None = Field(default=None, max_length=TEXT_MAX)
    evaluation_decision: Decision | None = None


class EscalationCreate(BaseModel):
    reason: str = Field(min_length=1, max_length=NOTE_MAX)
    revision: int = Field(ge=1, description="The measure's revision.")


class EscalationDecline(BaseModel):
    reason: str = Field(min_length=1, max_length=NOTE_MAX)


class CommentCreate(BaseModel):
    text: str = Field(min_length=1, max_length=TEXT_MAX)


class PlanComplete(BaseModel):
    revision: int = Field(ge=1, description="The plan's revision being completed.")


class CarryOver(BaseModel):
    measure_ids: list[str] = Field(min_length=1, max_length=200)


# --- responses --------------------------------------------------------------------------


class UnitRef(BaseModel):
    unit_id: str
    name: str


class PersonRef(BaseModel):
    person_id: str
    name: str


class FocusAreaPublic(BaseModel):
    ref_id: str = Field(description="The item.")
    kind: Literal["follow_up", "strength"]
    text: str
    factor_id: str | None
    factor_name: str | None
    decision: FocusDecision


class FocusPublic(BaseModel):
    source: Literal["own", "roll_up", "ancestor", "none"] = Field(
        description="`own`: the unit's results; `roll_up`: the unit is hidden, from the "
        "roll-up of its published sub-units; `ancestor`: from its nearest published "
        "unit above; `none`: nothing known."
    )
    source_unit: UnitRef | None
    areas: list[FocusAreaPublic]


class DialoguePublic(BaseModel):
    entry_id: str
    step: DialogueStep
    held_on: date
    note: str
    recorded_by: PersonRef
    recorded_at: datetime


class MeasureLink(BaseModel):
    measure_id: str
    plan_id: str
    unit: UnitRef


class EscalationPublic(BaseModel):
    escalation_id: str
    measure_id: str
    title: str
    from_unit: UnitRef
    from_plan_id: str
    to_unit: UnitRef
    to_plan_id: str
    reason: str
    status: Literal["pending", "accepted", "declined"]
    escalated_by: PersonRef
    escalated_at: datetime
    decided_by: PersonRef | None
    decided_at: datetime | None
    decline_reason: str | None
    to_measure_id: str | None


class MeasurePublic(MeasureFields):
    measure_id: str
    plan_id: str
    responsible: PersonRef | None
    status: MeasureStatus
    cancel_reason: str | None
    done_on: date | None
    evaluation_done: str
    evaluation_observed: str
    evaluation_decision: Decision | None
    revision: int
    origin: MeasureLink | None = Field(description="The measure of a sub-unit it was lifted from.")
    escalated_to: MeasureLink | None = Field(description="The parent's measure it became.")
    escalation: EscalationPublic | None = Field(description="Its latest escalation, if any.")
    carried_from_measure_id: str | None
    created_at: datetime


class CommentPublic(BaseModel):
    comment_id: str
    by: PersonRef
    text: str
    at: datetime


class HistoryPublic(BaseModel):
    at: datetime
    by: PersonRef
    action: str = Field(description="What kind of change (a code).")
    params: dict[str, Any] | None = Field(
        default=None,
        description="What changed, by code and value (null for entries from before they "
        "were stored).",
    )
    text: str = Field(default="", description="The change, in the requested language.")
    summary: str = Field(description="The change in English, with the stored codes.")
    measure_id: str | None


class VersionRef(BaseModel):
    version: int
    completed_at: datetime
    completed_by: PersonRef


class AccessPublic(BaseModel):
    edit: bool
    comment: bool
    as_: str = Field(alias="as", serialization_alias="as")

    model_config = {"populate_by_name": True}


class PlanPublic(BaseModel):
    plan_id: str
    period_id: str
    period_name: str | None
    unit: UnitRef
    parent: UnitRef | None
    deadline: date
    status: PlanStatus
    version: int = Field(description="Completed versions stored so far.")
    revision: int = Field(description="Send it back with an edit of the plan.")
    changed_since_version: bool
    desired_quality: bool
    missing: list[str] = Field(description="The checklist codes not met yet.")
    focus: FocusPublic
    dialogue: list[DialoguePublic]
    measures: list[MeasurePublic]
    incoming: list[EscalationPublic] = Field(description="Measures lifted to this plan.")
    comments: list[CommentPublic]
    history: list[HistoryPublic]
    versions: list[VersionRef]
    leaders: list[PersonRef]
    involved: list[PersonRef] = Field(description="The unit's safety and union representatives.")
    carry_over: list[MeasurePublic] = Field(
        description="Unfinished measures of the unit's previous plan not carried over yet."
    )
    access: AccessPublic


class VersionPublic(BaseModel):
    version: int
    completed_at: datetime
    completed_by: PersonRef
    plan: PlanPublic


class Inbox(BaseModel):
    period_id: str
    incoming: list[EscalationPublic] = Field(description="Waiting for you to decide.")
    decided: list[EscalationPublic]
    outgoing: list[EscalationPublic] = Field(description="Lifted from plans you edit.")


class ShareRow(BaseModel):
    indicator: Literal["with_plan", "complete_of_quality", "measures_done_by_deadline"]
    level: str = Field(description="A level of the tree, or `enterprise`.")
    count: int
    of: int
    share: float | None = Field(description="In percent; null when there is nothing to count.")
    target: float
    target_met: bool | None


class Indicators(BaseModel):
    period_id: str
    as_of: date
    rows: list[ShareRow]


class UnitWithoutPlan(BaseModel):
    unit: UnitRef
    level: str
    parent: UnitRef | None
    leaders: list[PersonRef]


class UnitsWithoutPlan(BaseModel):
    period_id: str
    units: list[UnitWithoutPlan]


class RollUpRow(BaseModel):
    unit: UnitRef
    level: str
    plan_id: str
    status: PlanStatus
    version: int
    measures: int
    done: int
    desired_quality: bool
    missing: list[str]


class RollUp(BaseModel):
    period_id: str
    units: list[RollUpRow]


class PeriodRef(BaseModel):
    period_id: str
    name: str | None
    plan_deadline: date | None


class MyPlans(BaseModel):
    """The plans a signed-in person can open (their own units' and, for HR, none listed)."""

    period: PeriodRef
    plans: list[RollUpRow]
    hr_admin: bool
    leader: bool = Field(description="Leads a unit in the period: has an escalation inbox.")


class IndicatorTargets(BaseModel):
    """A period's targets for the three plan indicators, in percent (HR sets them; the
    settings' targets until then)."""

    with_plan: float = Field(ge=0, le=100)
    complete_of_quality: float = Field(ge=0, le=100)
    measures_done_by_deadline: float = Field(ge=0, le=100)
