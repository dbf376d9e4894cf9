"""What actionplan reads, and the use case of `ingest` that applies each event."""

from collections.abc import Callable

from forbedring_actionplan import ingest, repository
from forbedring_chassis.clock import Clock
from forbedring_chassis.dispatch import dispatching
from forbedring_chassis.runtime import ConsumesBatches
from forbedring_contracts.events import (
    DirectoryUpdated,
    PeriodOpened,
    PublishedUnitResults,
    ResultsFinalized,
    ResultsReleased,
    SuppressedUnitResults,
)


def consumers(clock: Callable[[], Clock]) -> list[ConsumesBatches]:
    return [
        dispatching(
            {
                PeriodOpened: lambda s, e, now: ingest.period_opened(s, event=e, now=now),
                DirectoryUpdated: lambda s, e, now: ingest.directory_updated(s, event=e, now=now),
                PublishedUnitResults: lambda s, e, now: ingest.unit_results(s, event=e, now=now),
                SuppressedUnitResults: lambda s, e, now: ingest.unit_results(s, event=e, now=now),
                ResultsFinalized: lambda s, e, now: ingest.results_finalized(s, event=e, now=now),
                ResultsReleased: lambda s, e, now: ingest.results_released(s, event=e, now=now),
            },
            now=lambda: clock().now(),
            lock_period=repository.lock_period,
        )
    ]
