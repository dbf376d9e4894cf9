"""Thin handlers: the chassis has decoded the events and opened the transaction."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_aggregation import access, counting, finalisation, repository
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.logging import get_logger
from forbedring_chassis.offload import Offload
from forbedring_chassis.runtime import Consumes, ConsumesBatches, Runtime, run_periodically
from forbedring_contracts import topics
from forbedring_contracts.events import (
    DirectoryUpdated,
    Event,
    PeriodClosed,
    PeriodOpened,
    ResponseSubmitted,
)

log = get_logger(__name__)


def _settings(runtime: Runtime) -> AggregationSettings:
    assert isinstance(runtime.settings, AggregationSettings)
    return runtime.settings


async def finalise_pending(runtime: Runtime, *, period_ids: Sequence[str] | None = None) -> int:
    """Try to finalise every pending close request (among `period_ids`), each in its own
    transaction; wake the outbox relay when one was finalised. Returns how many were."""
    settings = _settings(runtime)
    async with runtime.sessions() as session:
        pending = await repository.pending_close_requests(session, period_ids=period_ids)
    finalised = 0
    for period_id in pending:
        async with runtime.sessions() as session, session.begin():
            outcome = await finalisation.try_finalise(
                session,
                period_id=period_id,
                indicators=settings.indicators,
                now=datetime.now(UTC),
            )
        finalised += outcome.finalised
    if finalised:
        runtime.relay.wake()
    return finalised


async def after_events_committed(
    runtime: Runtime, events: Sequence[Event | counting.ResponseTally]
) -> None:
    """A batch just committed: it may have completed a period that is waiting to close
    (or be the period-closed of a complete period)."""
    await finalise_pending(runtime, period_ids=sorted({p for e in events for p in _periods_of(e)}))


def _periods_of(applied: Event | counting.ResponseTally) -> list[str]:
    if isinstance(applied, counting.ResponseTally):  # counted by the workers
        return applied.period_ids
    if isinstance(applied, DirectoryUpdated):  # who may read; nothing to finalise
        return []
    assert isinstance(applied, PeriodOpened | ResponseSubmitted | PeriodClosed)
    return [applied.period_id]


async def finalise_on_timer(runtime: Runtime) -> None:
    """The safety net: period-closed may commit after the last responses did (they are on
    other partitions), or an instance may die between a batch's commit and its check."""
    await run_periodically(
        lambda: finalise_pending(runtime),
        interval_s=_settings(runtime).finalise_interval_s,
        failure_event="aggregation.finalise.failed",
    )


def consumes(settings: AggregationSettings) -> list[Consumes | ConsumesBatches]:
    """One batch consumer for the four topics: one member of the consumer group per
    instance, and a period's facts and responses can share a transaction."""
    layouts = counting.Layouts()

    async def on_events(session: AsyncSession, events: Sequence[Event]) -> None:
        responses: list[ResponseSubmitted] = []
        for event in events:
            if isinstance(event, PeriodOpened):
                await counting.open_period(session, event=event)
            elif isinstance(event, ResponseSubmitted):
                responses.append(event)
            elif isinstance(event, DirectoryUpdated):
                await access.directory_updated(session, event=event)
        if responses:
            await counting.count_responses(session, events=responses, layouts=layouts)
        for event in events:
            if isinstance(event, PeriodClosed):
                await finalisation.request_close(session, event=event)

    return [
        ConsumesBatches(
            (
                topics.PERIOD_OPENED,
                topics.RESPONSE_SUBMITTED,
                topics.PERIOD_CLOSED,
                topics.DIRECTORY_UPDATED,
            ),
            on_events,
            after_commit=after_events_committed,
            max_records=settings.batch_max_records,
            batch_timeout_ms=settings.batch_timeout_ms,
            max_partition_fetch_bytes=settings.fetch_bytes_per_partition,
            slice_records=settings.slice_records,
            offload=Offload(
                topics=(topics.RESPONSE_SUBMITTED,),
                digest=counting.tally_responses,
                context=layouts.stored,
                merge=counting.merge_tallies,
                apply=counting.add_tally,
                workers=settings.count_workers,
            )
            if settings.count_workers
            else None,
            # Started on a backlog, the periods first: their responses need not be held.
            read_first=(topics.PERIOD_OPENED,),
        )
    ]
