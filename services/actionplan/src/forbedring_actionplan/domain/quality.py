"""A plan "of the desired quality" and the plan's status.

Desired quality: the results were discussed with the staff, every measure has a
responsible person, a deadline and a desired effect, and at least one measure links to a
focus area. What is missing is a checklist of stable codes, shown on the plan page and
carried by reminders (never a result figure)."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

CHECKLIST = (
    "staff_discussion",
    "measures",
    "measure_responsible",
    "measure_deadline",
    "measure_desired_effect",
    "measure_linked_to_focus_area",
)

FINISHED = frozenset({"done", "cancelled"})


@dataclass(frozen=True)
class MeasureFacts:
    responsible: bool
    deadline: bool
    desired_effect: bool
    linked_id: str | None
    status: str
    escalated_away: bool = False
    """Accepted by the parent's plan: it is followed up there."""


def missing(
    *,
    staff_discussed: bool,
    measures: Sequence[MeasureFacts],
    focus_refs: Collection[str],
) -> list[str]:
    """The checklist codes not met, in checklist order. `focus_refs`: the ids (items and
    their factors) of the focus areas not dismissed. Cancelled measures are left out."""
    live = [m for m in measures if m.status != "cancelled" and not m.escalated_away]
    gaps: list[str] = []
    if not staff_discussed:
        gaps.append("staff_discussion")
    if not live:
        gaps.append("measures")
    if any(not m.responsible for m in live):
        gaps.append("measure_responsible")
    if any(not m.deadline for m in live):
        gaps.append("measure_deadline")
    if any(not m.desired_effect for m in live):
        gaps.append("measure_desired_effect")
    if not any(m.linked_id is not None and m.linked_id in focus_refs for m in live):
        gaps.append("measure_linked_to_focus_area")
    return gaps


Status = Literal["draft", "active", "completed"]


def status(*, version: int, measure_statuses: Sequence[str]) -> Status:
    """`draft` until the leader first marks the plan complete (a version is stored);
    then `active` while it is followed up; `completed` once every measure is done or
    cancelled."""
    if version == 0:
        return "draft"
    if measure_statuses and all(s in FINISHED for s in measure_statuses):
        return "completed"
    return "active"


def done_by_deadline(status: str, done_on: date | None, deadline: date | None) -> bool:
    return status == "done" and done_on is not None and deadline is not None and done_on <= deadline
