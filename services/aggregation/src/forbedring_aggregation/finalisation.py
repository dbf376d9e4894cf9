"""Finalisation: period-closed stores a close request; once every unit's count equals its
total the snapshot is built under the current suppression rule and staged in the outbox,
exactly once. No commit and no publish here: the caller owns the transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation import repository
from forbedring_aggregation.counting import layout_of
from forbedring_aggregation.domain.snapshot import (
    IndicatorSettings,
    NothingPublishableError,
    PeriodUnit,
    UnitCounters,
    UnitResult,
    build_snapshot,
)
from forbedring_aggregation.domain.suppression import InvalidUnitTreeError, SuppressionMethod
from forbedring_aggregation.models import Period, Snapshot, SnapshotUnit
from forbedring_chassis.logging import get_logger
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import (
    PeriodClosed,
    Questionnaire,
    ResultsFinalized,
    results_checksum,
)

log = get_logger(__name__)

CURRENT_METHOD = SuppressionMethod.OPTIMAL_V2
"""The suppression rule for every period finalised now (docs/suppression.md); a rebuild
uses the rule its stored snapshot records."""


async def request_close(session: AsyncSession, *, event: PeriodClosed) -> None:
    stored = await repository.insert_close_request(
        session, period_id=event.period_id, totals=dict(event.totals), closed_at=event.closed_at
    )
    log.info("aggregation.period.close_requested", period_id=event.period_id, repeated=not stored)


def period_units(period: Period) -> list[PeriodUnit]:
    return [PeriodUnit(u["unit_id"], u["parent_id"], u["eligible"]) for u in period.units]


@dataclass(frozen=True)
class FinaliseOutcome:
    period_id: str
    finalised: bool
    detail: str


async def try_finalise(
    session: AsyncSession,
    *,
    period_id: str,
    indicators: IndicatorSettings,
    now: datetime,
) -> FinaliseOutcome:
    """Finalise the period if every unit's count equals its total in period-closed.

    Exactly once: the close request row is locked for the whole transaction, and a
    finalised request is never finalised again (a repeated period-closed finds it)."""
    request = await repository.lock_close_request(session, period_id=period_id)
    if request is None or request.finalized_at is not None or request.blocked is not None:
        return FinaliseOutcome(period_id, False, "no pending close request")
    period = await repository.period(session, period_id=period_id)
    if period is None:
        return FinaliseOutcome(period_id, False, "period not opened yet")
    units = period_units(period)
    counts = await repository.unit_counters(session, period_id=period_id)
    missing = 0
    for unit_id in {u.unit_id for u in units} | set(request.totals):
        expected = request.totals.get(unit_id, 0)
        have = counts.get(unit_id, (0, None))[0]
        if have != expected:
            missing += expected - have
    if missing:
        return FinaliseOutcome(period_id, False, f"waiting for {missing} response(s)")
    layout = layout_of(Questionnaire.model_validate(period.questionnaire))
    try:
        # CPU-bound for a national tree (seconds): off the event loop, so the Kafka
        # consumer's heartbeats keep going meanwhile.
        results = await asyncio.to_thread(
            build_snapshot,
            period_id=period_id,
            units=units,
            layout=layout,
            k=period.k,
            sensitive_k=period.sensitive_k,
            counters={
                unit_id: UnitCounters(count, vector or ())
                for unit_id, (count, vector) in counts.items()
            },
            indicators=indicators,
            method=CURRENT_METHOD,
        )
    except (NothingPublishableError, InvalidUnitTreeError) as exc:
        # Not a passing state: retrying would fail the same way. Blocked until an operator
        # acts (the reason is on the close request and in the log).
        await repository.mark_close_request(session, period_id=period_id, blocked=str(exc))
        log.error("aggregation.snapshot.blocked", period_id=period_id, reason=str(exc))
        return FinaliseOutcome(period_id, False, str(exc))
    await _publish_snapshot(session, period_id=period_id, results=results, now=now)
    await repository.mark_close_request(session, period_id=period_id, finalized_at=now)
    log.info("aggregation.snapshot.finalised", period_id=period_id, units=len(results))
    return FinaliseOutcome(period_id, True, "finalised")


def snapshot_values(results: Sequence[UnitResult]) -> list[tuple[str, bytes]]:
    """(unit id, message value) of each unit-results event, as the envelope encodes it."""
    return [(r.unit_id, r.model_dump_json().encode()) for r in results]


async def _publish_snapshot(
    session: AsyncSession,
    *,
    period_id: str,
    results: Sequence[UnitResult],
    now: datetime,
) -> None:
    values = await asyncio.to_thread(snapshot_values, results)
    checksum = results_checksum(values)
    published = sum(1 for r in results if r.published)
    for result in results:
        stage_event(session, result)
    stage_event(
        session,
        ResultsFinalized(
            period_id=period_id,
            unit_count=len(results),
            published_count=published,
            checksum=checksum,
            finalized_at=now,
            suppression_method=CURRENT_METHOD.value,
        ),
    )
    await repository.save_snapshot(
        session,
        snapshot=Snapshot(
            period_id=period_id,
            unit_count=len(results),
            published_count=published,
            checksum=checksum,
            finalized_at=now,
            suppression_method=CURRENT_METHOD.value,
        ),
        units=[
            SnapshotUnit(period_id=period_id, unit_id=uid, published=r.published, value=value)
            for r, (uid, value) in zip(results, values, strict=True)
        ],
    )
