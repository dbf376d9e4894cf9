"""Pure rules of the staged release: when each stage happens, who may read results at
which stage, and which postponements are allowed. No I/O, no framework."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from forbedring_contracts.events import AudienceRole

Stage = Literal[1, 2]
STAGE_1_ROLES: frozenset[str] = frozenset({"leader", "safety_rep", "union_rep", "hr_admin"})
STAGE_1_AUDIENCE: tuple[AudienceRole, ...] = ("leader", "safety_rep", "union_rep", "hr_admin")
STAGE_2_AUDIENCE: tuple[AudienceRole, ...] = (*STAGE_1_AUDIENCE, "employee")


@dataclass(frozen=True)
class Schedule:
    """A period's release state. `stage_N_at` is None until the results are finalised."""

    finalised: bool
    stage_1_at: datetime | None
    stage_2_at: datetime | None
    stage_1_released_at: datetime | None
    stage_2_released_at: datetime | None

    @property
    def released_stage(self) -> Literal[0, 1, 2]:
        if self.stage_2_released_at is not None:
            return 2
        if self.stage_1_released_at is not None:
            return 1
        return 0


def initial_schedule(
    *, finalized_at: datetime, stage_1_delay: timedelta, stage_2_delay: timedelta
) -> tuple[datetime, datetime]:
    """Stage 1 at finalised + its delay; stage 2 at stage 1 + its delay."""
    stage_1 = finalized_at + stage_1_delay
    return stage_1, stage_1 + stage_2_delay


def may_read_results(*, roles: frozenset[str], released_stage: int) -> bool:
    """Stage 1: the stage-1 roles (for any unit); stage 2: every signed-in employee.
    Whoever may read results may read every unit's results (docs/release.md)."""
    if released_stage >= 2:
        return True
    if released_stage == 1:
        return bool(roles & STAGE_1_ROLES)
    return False


def is_admin(roles: frozenset[str]) -> bool:
    return "hr_admin" in roles


class PostponeRefused(Exception):
    """A postponement that the rules do not allow; `status` says how (409 or 422)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def postpone(
    schedule: Schedule, *, stage: Stage, until: datetime, now: datetime
) -> tuple[datetime, datetime]:
    """The new (stage 1, stage 2) times, or `PostponeRefused`."""
    if not schedule.finalised or schedule.stage_1_at is None or schedule.stage_2_at is None:
        raise PostponeRefused(
            "The results are not finalised yet, so there is no release time to postpone.",
            status=409,
        )
    if schedule.released_stage >= stage:
        raise PostponeRefused(f"Stage {stage} has already been released.", status=409)
    current = schedule.stage_1_at if stage == 1 else schedule.stage_2_at
    if until <= now:
        raise PostponeRefused("The new time must be in the future.", status=422)
    if until <= current:
        raise PostponeRefused(
            f"The new time must be later than the current time of stage {stage} "
            f"({current.isoformat()}); a stage can be postponed, not brought forward.",
            status=422,
        )
    if stage == 1 and until > schedule.stage_2_at:
        raise PostponeRefused(
            "Stage 2 can never come before stage 1: postpone stage 2 "
            f"(now {schedule.stage_2_at.isoformat()}) first.",
            status=422,
        )
    if stage == 1:
        return until, schedule.stage_2_at
    return schedule.stage_1_at, until
