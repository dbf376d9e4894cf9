"""What publication reads, and the use case of `ingest` that applies each event."""

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.clock import Clock
from forbedring_chassis.dispatch import dispatching
from forbedring_chassis.runtime import ConsumesBatches
from forbedring_contracts.events import (
    DirectoryUpdated,
    PeriodOpened,
    PublishedUnitResults,
    ResultsFinalized,
    SuppressedUnitResults,
)
from forbedring_publication import ingest, repository
from forbedring_publication.settings import PublicationSettings


def consumers(settings: PublicationSettings, clock: Clock) -> list[ConsumesBatches]:
    defaults = {
        "default_stage_1_delay": timedelta(seconds=settings.default_stage_1_delay_s),
        "default_stage_2_delay": timedelta(seconds=settings.default_stage_2_delay_s),
    }

    async def unit_results(
        session: AsyncSession, event: PublishedUnitResults | SuppressedUnitResults, _: datetime
    ) -> None:
        await ingest.unit_results(session, event=event, **defaults)

    return [
        dispatching(
            {
                PeriodOpened: lambda s, e, now: ingest.period_opened(s, event=e, **defaults),
                DirectoryUpdated: lambda s, e, now: ingest.directory_updated(s, event=e),
                PublishedUnitResults: unit_results,
                SuppressedUnitResults: unit_results,
                ResultsFinalized: lambda s, e, now: ingest.results_finalized(
                    s, event=e, **defaults
                ),
            },
            now=clock.now,
            lock_period=repository.lock_period,
        )
    ]
