"""One batch consumer for the four topics publication reads (one member of the consumer
group, so no rebalance per topic); a thin dispatch to the use cases of `ingest`."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.runtime import ConsumesBatches
from forbedring_contracts import topics
from forbedring_contracts.events import (
    DirectoryUpdated,
    PeriodOpened,
    PublishedUnitResults,
    ResultsFinalized,
    SuppressedUnitResults,
)
from forbedring_publication import ingest, repository
from forbedring_publication.settings import PublicationSettings


def consumers(settings: PublicationSettings) -> list[ConsumesBatches]:
    defaults = {
        "default_stage_1_delay": timedelta(seconds=settings.default_stage_1_delay_s),
        "default_stage_2_delay": timedelta(seconds=settings.default_stage_2_delay_s),
    }

    async def apply(session: AsyncSession, events: Sequence[Any]) -> None:
        # Lock the batch's periods in one order first: replicas never wait on each other
        # in a cycle, whatever mix of periods their batches hold.
        for period_id in sorted({event.period_id for event in events}):
            await repository.lock_period(session, period_id=period_id)
        for event in events:
            if isinstance(event, PublishedUnitResults | SuppressedUnitResults):
                await ingest.unit_results(session, event=event, **defaults)
            elif isinstance(event, ResultsFinalized):
                await ingest.results_finalized(session, event=event, **defaults)
            elif isinstance(event, DirectoryUpdated):
                await ingest.directory_updated(session, event=event)
            elif isinstance(event, PeriodOpened):
                await ingest.period_opened(session, event=event, **defaults)

    return [
        ConsumesBatches(
            topics=(
                topics.PERIOD_OPENED,
                topics.DIRECTORY_UPDATED,
                topics.UNIT_RESULTS,
                topics.RESULTS_FINALIZED,
            ),
            handler=apply,
        )
    ]
