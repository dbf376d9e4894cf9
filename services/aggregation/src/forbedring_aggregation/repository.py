"""All aggregation SQL."""

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation.models import UnitCount


async def add_respondent(session: AsyncSession, *, period_id: str, unit_id: str) -> None:
    statement = insert(UnitCount).values(period_id=period_id, unit_id=unit_id, respondents=1)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["period_id", "unit_id"],
            set_={"respondents": UnitCount.__table__.c.respondents + 1},  # type: ignore[attr-defined]
        )
    )


async def respondents(session: AsyncSession, *, period_id: str, unit_id: str) -> int:
    row = (
        await session.exec(
            select(UnitCount.respondents).where(
                UnitCount.period_id == period_id, UnitCount.unit_id == unit_id
            )
        )
    ).first()
    return row or 0
