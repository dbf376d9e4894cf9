"""One batch consumer for the five topics actionplan reads; a thin dispatch to the use
cases of `ingest`."""

from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan import ingest, repository
from forbedring_chassis.clock import Clock
from forbedring_chassis.runtime import ConsumesBatches
from forbedring_contracts import topics
from forbedring_contracts.events import (
    DirectoryUpdated,
    PeriodOpened,
    PublishedUnitResults,
    ResultsFinalized,
    ResultsReleased,
    SuppressedUnitResults,
)


def consumers(clock: Callable[[], Clock]) -> list[ConsumesBatches]:
    async def apply(session: AsyncSession, events: Sequence[Any]) -> None:
        now = clock().now()
        # Lock the batch's periods in one order first: replicas never wait in a cycle.
        for period_id in sorted({event.period_id for event in events}):
            await repository.lock_period(session, period_id=period_id)
        for event in events:
            if isinstance(event, PublishedUnitResults | SuppressedUnitResults):
                await ingest.unit_results(session, event=event, now=now)
            elif isinstance(event, ResultsFinalized):
                await ingest.results_finalized(session, event=event, now=now)
            elif isinstance(event, ResultsReleased):
                await ingest.results_released(session, event=event, now=now)
            elif isinstance(event, DirectoryUpdated):
                await ingest.directory_updated(session, event=event, now=now)
            elif isinstance(event, PeriodOpened):
                await ingest.period_opened(session, event=event, now=now)

    return [
        ConsumesBatches(
            topics=(
                topics.PERIOD_OPENED,
                topics.DIRECTORY_UPDATED,
                topics.UNIT_RESULTS,
                topics.RESULTS_FINALIZED,
                topics.RESULTS_RELEASED,
            ),
            handler=apply,
        )
    ]
