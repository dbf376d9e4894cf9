"""Who may read what this service shows: the counts so far and the suppression preview
are HR's, per period. Everyone else, signed in or not, is refused (the survey service
shows leaders their participation)."""

from typing import Annotated

from fastapi import Depends
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation.models import HrAdmin
from forbedring_chassis.auth import Principal, current_principal
from forbedring_chassis.db import replace_period_rows
from forbedring_chassis.errors import Forbidden
from forbedring_chassis.runtime import SessionDep
from forbedring_contracts.events import DirectoryUpdated

HR_ADMIN = "hr_admin"


async def directory_updated(session: AsyncSession, *, event: DirectoryUpdated) -> None:
    """The period's HR admins, replaced whole as the directory is."""
    admins = sorted({r.person_id for r in event.roles if r.role == HR_ADMIN})
    await replace_period_rows(
        session,
        period_id=event.period_id,
        rows={HrAdmin: [HrAdmin(period_id=event.period_id, person_id=p) for p in admins]},
    )


async def is_hr_admin(session: AsyncSession, *, period_id: str, person_id: str) -> bool:
    found = await session.exec(
        select(HrAdmin.person_id).where(
            HrAdmin.period_id == period_id, HrAdmin.person_id == person_id
        )
    )
    return found.first() is not None


async def hr_admin_of_period(
    period_id: str,
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    """The signed-in HR admin of `period_id`, or 403 (the same for a period that does
    not exist: whether it does is not told to those who may not read it)."""
    if not await is_hr_admin(session, period_id=period_id, person_id=principal.subject):
        raise Forbidden(f"only the period's HR admins may read its counts ({period_id})")
    return principal


HrAdminOfPeriod = Annotated[Principal, Depends(hr_admin_of_period)]
