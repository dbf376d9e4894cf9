"""All aggregation SQL.

Ancestor totals are summed on demand from the leaf counters (one indexed read of the
period's `unit_counts` rows, then a postorder pass in `domain.snapshot`), not kept
incrementally. Measured at national scale by `bench/bench_consume.py` (5,000 units,
200,000 responses of 40 answers; bench-results/aggregation.json, "ancestor_totals"):
- on demand: reading every leaf row of the period takes about 0.2 s; reading, summing the
  tree and building the whole snapshot about 3.5 s. It is needed only for the live
  preview and at finalisation;
- incremental: replaying the same 200,000 responses into the counters in batches of
  10,000 took 9.8 s writing 79,000 leaf rows, and 12.0 s writing 91,000 rows when every
  ancestor is kept too (+22 %; in batches of 1,000: 23 s vs 37 s, +57 %), on the hot
  path of every batch. Worse than the time, every batch of every instance would then
  update the same root row (and the same division rows): a hot row that serialises the
  consumers of a group and invites deadlocks between them, whereas leaf rows are
  partitioned by unit exactly like the topic.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation.models import (
    CloseRequest,
    HeldResponse,
    Period,
    Snapshot,
    SnapshotUnit,
    UnitCount,
)


@dataclass(frozen=True)
class CountDelta:
    """What a batch adds to one unit: respondents and (once the period is known) counters."""

    period_id: str
    unit_id: str
    respondents: int
    counters: list[int] | None


async def lock_period(session: AsyncSession, *, period_id: str, exclusive: bool) -> None:
    """A transaction-scoped advisory lock on a period id: counting takes it shared, opening
    the period takes it exclusive, so a response is either held before the period is
    stored (and folded in by the opening) or counted with the stored questionnaire."""
    name = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.exec(select(getattr(func, name)(func.hashtextextended(period_id, 0))))


async def insert_period(
    session: AsyncSession,
    *,
    period_id: str,
    k: int,
    sensitive_k: int,
    questionnaire: dict[str, Any],
    units: list[dict[str, Any]],
) -> bool:
    """Store a period; False when it was stored already (the first period-opened wins)."""
    result = await session.exec(
        insert(Period)
        .values(
            period_id=period_id,
            k=k,
            sensitive_k=sensitive_k,
            questionnaire=questionnaire,
            units=units,
        )
        .on_conflict_do_nothing()
        .returning(Period.__table__.c.period_id)  # type: ignore[attr-defined]
    )
    return result.first() is not None


async def questionnaires(
    session: AsyncSession, *, period_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    rows = await session.exec(
        select(Period.period_id, Period.questionnaire).where(col(Period.period_id).in_(period_ids))
    )
    return {period_id: dict(questionnaire) for period_id, questionnaire in rows.all()}


async def period_ids(session: AsyncSession) -> list[str]:
    return list((await session.exec(select(Period.period_id))).all())


async def period(session: AsyncSession, *, period_id: str) -> Period | None:
    return await session.get(Period, period_id)


_ADD_COUNTS = text(
    """
    INSERT INTO unit_counts AS c (period_id, unit_id, respondents, counters)
    SELECT t.period_id, t.unit_id, t.respondents, CAST(t.counters AS integer[])
    FROM unnest(
        CAST(:periods AS text[]), CAST(:units AS text[]), CAST(:respondents AS integer[]),
        CAST(:counters AS text[])
    ) AS t(period_id, unit_id, respondents, counters)
    ON CONFLICT (period_id, unit_id) DO UPDATE SET
        respondents = c.respondents + excluded.respondents,
        counters = aggregation_add_counters(c.counters, excluded.counters)
    """
)


def _array_literal(vector: Sequence[int] | None) -> str | None:
    """`{1, 0, 3}`: a list's repr between braces (PostgreSQL takes the spaces), a third
    faster than joining the numbers' strings."""
    return None if vector is None else "{" + str(list(vector))[1:-1] + "}"


async def add_counts(session: AsyncSession, deltas: Sequence[CountDelta]) -> None:
    """Add every delta in one statement, the rows as parallel arrays (unnest); each
    vector travels as an array literal, cast per row. Measured: a multi-row VALUES of
    thousands of arrays costs more to build than to run, and slicing one flat array
    parameter per row copies the whole array each time.
    Sorted by key, so two instances updating the same rows (during a rebalance) lock them
    in the same order and cannot deadlock."""
    if not deltas:
        return
    ordered = sorted(deltas, key=lambda d: (d.period_id, d.unit_id))
    await session.exec(
        _ADD_COUNTS,  # type: ignore[call-overload]
        params={
            "periods": [d.period_id for d in ordered],
            "units": [d.unit_id for d in ordered],
            "respondents": [d.respondents for d in ordered],
            "counters": [_array_literal(d.counters) for d in ordered],
        },
    )


_HOLD = text(
    """
    INSERT INTO held_responses (response_id, period_id, unit_id, answers)
    SELECT t.response_id, t.period_id, t.unit_id, CAST(t.answers AS jsonb)
    FROM unnest(
        CAST(:ids AS text[]), CAST(:periods AS text[]), CAST(:units AS text[]),
        CAST(:answers AS text[])
    ) AS t(response_id, period_id, unit_id, answers)
    ON CONFLICT DO NOTHING
    """
)


async def hold_responses(session: AsyncSession, held: Sequence[HeldResponse]) -> None:
    if held:
        await session.exec(
            _HOLD,  # type: ignore[call-overload]
            params={
                "ids": [h.response_id for h in held],
                "periods": [h.period_id for h in held],
                "units": [h.unit_id for h in held],
                "answers": [json.dumps(h.answers) for h in held],
            },
        )


async def take_held_responses(
    session: AsyncSession, *, period_id: str
) -> list[tuple[str, dict[str, Any]]]:
    """Remove and return the held responses of a period as (unit id, answers)."""
    result = await session.exec(
        delete(HeldResponse)
        .where(col(HeldResponse.period_id) == period_id)
        .returning(col(HeldResponse.unit_id), col(HeldResponse.answers))
    )
    return [(unit_id, answers) for unit_id, answers in result.all()]


async def respondents(session: AsyncSession, *, period_id: str, unit_id: str) -> int:
    row = (
        await session.exec(
            select(UnitCount.respondents).where(
                UnitCount.period_id == period_id, UnitCount.unit_id == unit_id
            )
        )
    ).first()
    return row or 0


async def direct_respondents(session: AsyncSession, *, period_id: str) -> dict[str, int]:
    rows = await session.exec(
        select(UnitCount.unit_id, UnitCount.respondents).where(UnitCount.period_id == period_id)
    )
    return {unit_id: count for unit_id, count in rows.all()}


async def unit_counters(
    session: AsyncSession, *, period_id: str
) -> dict[str, tuple[int, list[int] | None]]:
    """Every unit's (direct respondents, counters) of a period: the leaf counters."""
    rows = await session.exec(
        select(UnitCount.unit_id, UnitCount.respondents, UnitCount.counters).where(
            UnitCount.period_id == period_id
        )
    )
    return {
        unit_id: (count, list(counters) if counters is not None else None)
        for unit_id, count, counters in rows.all()
    }


async def insert_close_request(
    session: AsyncSession, *, period_id: str, totals: dict[str, int], closed_at: datetime
) -> bool:
    """Store a close request; False when the period had one (a repeated period-closed)."""
    result = await session.exec(
        insert(CloseRequest)
        .values(period_id=period_id, totals=totals, closed_at=closed_at)
        .on_conflict_do_nothing()
        .returning(CloseRequest.__table__.c.period_id)  # type: ignore[attr-defined]
    )
    return result.first() is not None


async def pending_close_requests(
    session: AsyncSession, *, period_ids: Sequence[str] | None = None
) -> list[str]:
    """Periods asked to close, not finalised and not blocked (optionally among some)."""
    statement = select(CloseRequest.period_id).where(
        col(CloseRequest.finalized_at).is_(None), col(CloseRequest.blocked).is_(None)
    )
    if period_ids is not None:
        statement = statement.where(col(CloseRequest.period_id).in_(period_ids))
    return list((await session.exec(statement.order_by(col(CloseRequest.period_id)))).all())


async def lock_close_request(session: AsyncSession, *, period_id: str) -> CloseRequest | None:
    """The close request, locked until the transaction ends (FOR UPDATE, waiting): a second
    instance blocks here while the first finalises, then sees `finalized_at` set."""
    return (
        await session.exec(
            select(CloseRequest)
            .where(CloseRequest.period_id == period_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()


async def mark_close_request(
    session: AsyncSession,
    *,
    period_id: str,
    finalized_at: datetime | None = None,
    blocked: str | None = None,
) -> None:
    await session.exec(
        update(CloseRequest)
        .where(col(CloseRequest.period_id) == period_id)
        .values(finalized_at=finalized_at, blocked=blocked)
    )


_SAVE_SNAPSHOT_UNITS = text(
    """
    INSERT INTO snapshot_units (period_id, unit_id, published, value)
    SELECT :period_id, t.unit_id, t.published, t.value
    FROM unnest(CAST(:units AS text[]), CAST(:published AS boolean[]), CAST(:values AS bytea[]))
        AS t(unit_id, published, value)
    """
)


async def save_snapshot(
    session: AsyncSession,
    *,
    snapshot: Snapshot,
    units: Sequence[SnapshotUnit],
) -> None:
    """The snapshot and its units in two statements (arrays: a national tree has more units
    than a multi-row VALUES may have parameters)."""
    session.add(snapshot)
    await session.exec(
        _SAVE_SNAPSHOT_UNITS,  # type: ignore[call-overload]
        params={
            "period_id": snapshot.period_id,
            "units": [u.unit_id for u in units],
            "published": [u.published for u in units],
            "values": [u.value for u in units],
        },
    )


async def snapshot(session: AsyncSession, *, period_id: str) -> Snapshot | None:
    return await session.get(Snapshot, period_id)


async def snapshot_values(session: AsyncSession, *, period_id: str) -> list[tuple[str, bytes]]:
    rows = await session.exec(
        select(SnapshotUnit.unit_id, SnapshotUnit.value)
        .where(SnapshotUnit.period_id == period_id)
        .order_by(col(SnapshotUnit.unit_id))
    )
    return [(unit_id, value) for unit_id, value in rows.all()]
