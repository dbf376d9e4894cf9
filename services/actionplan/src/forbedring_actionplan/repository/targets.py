"""SQL of the indicator targets HR sets per period."""

from collections.abc import Mapping

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def stored_targets(session: AsyncSession, *, period_id: str) -> dict[str, float]:
    rows = await session.connection()
    found = await rows.execute(
        text("SELECT indicator, percent FROM actionplan_indicator_targets WHERE period_id = :p"),
        {"p": period_id},
    )
    return {str(indicator): float(percent) for indicator, percent in found}


async def save_targets(
    session: AsyncSession, *, period_id: str, targets: Mapping[str, float]
) -> None:
    connection = await session.connection()
    for indicator, percent in targets.items():
        await connection.execute(
            text(
                "INSERT INTO actionplan_indicator_targets (period_id, indicator, percent) "
                "VALUES (:p, :i, :v) ON CONFLICT (period_id, indicator) "
                "DO UPDATE SET percent = EXCLUDED.percent"
            ),
            {"p": period_id, "i": indicator, "v": percent},
        )
