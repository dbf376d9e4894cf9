"""What the signed-in person may read now, for their start page: each period's results,
readable or not yet (and when). A summary only: no figure of any unit."""

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_publication import repository
from forbedring_publication.domain.release import may_read_results
from forbedring_publication.release import schedule_of


class MyResults(BaseModel):
    period_id: str
    name: str | None
    readable: bool = Field(description="The person may read this period's results now.")
    next_release_at: datetime | None = Field(
        description="When not readable yet: when the person's stage is due, if known."
    )


async def my_results(session: AsyncSession, *, person_id: str) -> list[MyResults]:
    found = []
    for period in await repository.list_periods(session):
        roles = await repository.roles_of(session, period_id=period.period_id, person_id=person_id)
        schedule = schedule_of(period)
        readable = may_read_results(roles=roles, released_stage=schedule.released_stage)
        stage_1 = may_read_results(roles=roles, released_stage=1)
        due = None if readable else (period.stage_1_at if stage_1 else period.stage_2_at)
        found.append(
            MyResults(
                period_id=period.period_id, name=period.name, readable=readable, next_release_at=due
            )
        )
    return found
