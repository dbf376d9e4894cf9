"""Indicator targets: what share of units should have a plan, a complete plan of the
desired quality, and measures done by their deadline. HR sets them per period; until
then the settings' targets apply. Setting them is recorded in the audit log with who
did it. No commit here."""

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import repository
from forbedring_actionplan.domain import access as rules
from forbedring_actionplan.errors import Forbidden, Invalid, NotFound
from forbedring_actionplan.repository.targets import save_targets, stored_targets
from forbedring_chassis import audit

INDICATORS: Final = ("with_plan", "complete_of_quality", "measures_done_by_deadline")


async def targets_of(
    session: AsyncSession, *, period_id: str, defaults: Mapping[str, float]
) -> dict[str, float]:
    """The period's targets: HR's where set, else the default."""
    return {**defaults, **await stored_targets(session, period_id=period_id)}


async def set_targets(
    session: AsyncSession,
    *,
    actor: str,
    period_id: str,
    targets: Mapping[str, float],
    now: datetime,
) -> dict[str, float]:
    if await repository.get_period(session, period_id=period_id) is None:
        raise NotFound(f"There is no period {period_id!r}.")
    roles = await repository.roles_of(session, period_id=period_id, person_id=actor)
    if not rules.is_hr_admin(roles):
        raise Forbidden("Only HR admins set the indicator targets.")
    unknown = set(targets) - set(INDICATORS)
    if unknown:
        raise Invalid(f"There is no indicator {sorted(unknown)[0]!r}.")
    outside = [key for key, value in targets.items() if not 0 <= value <= 100]
    if outside:
        raise Invalid(
            "A target is a share of units or measures: 0 to 100 %.",
            problems=[{"indicator": key, "code": "out_of_range"} for key in outside],
        )
    await save_targets(session, period_id=period_id, targets=targets)
    await audit.record(
        session,
        at=now,
        actor=actor,
        action="targets.set",
        subject=period_id,
        details=dict(targets),
    )
    return dict(targets)
