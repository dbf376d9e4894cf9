"""One batch consumer for the eight topics notification reads (one member of the consumer
group, so no rebalance per topic); a thin dispatch to the use cases of `ingest` and
`announcements`. The batch's rows, its inbox rows and nothing else commit together; the
mail relay is woken after the commit and sends them."""

from collections.abc import Sequence
from typing import Any

from forbedring_chassis.clock import Clock, SystemClock
from forbedring_chassis.dispatch import dispatching
from forbedring_chassis.runtime import ConsumesBatches, Runtime
from forbedring_contracts.events import (
    DirectoryUpdated,
    MeasureEscalated,
    ParticipationChanged,
    PeriodClosed,
    PeriodOpened,
    PlanDeadlineApproaching,
    PlanUpdated,
    ResultsReleased,
)
from forbedring_notification import announcements, ingest, repository


def consumers(clock: Clock) -> list[ConsumesBatches]:
    async def wake_relay(runtime: Runtime, events: Sequence[Any]) -> None:
        relay = runtime.extras.get("mail_relay")
        if relay is not None:
            relay.wake()  # type: ignore[attr-defined]

    return [
        dispatching(
            {
                DirectoryUpdated: lambda s, e, now: ingest.directory_updated(s, event=e, now=now),
                PeriodOpened: lambda s, e, now: ingest.period_opened(s, event=e, now=now),
                ParticipationChanged: lambda s, e, now: ingest.participation_changed(s, event=e),
                PeriodClosed: lambda s, e, now: ingest.period_closed(s, event=e, now=now),
                ResultsReleased: lambda s, e, now: announcements.results_released(
                    s, event=e, now=now
                ),
                PlanUpdated: lambda s, e, now: announcements.plan_updated(s, event=e, now=now),
                MeasureEscalated: lambda s, e, now: announcements.measure_escalated(
                    s, event=e, now=now
                ),
                PlanDeadlineApproaching: lambda s, e, now: announcements.plan_deadline_approaching(
                    s, event=e, now=now
                ),
            },
            now=clock.now,
            lock_period=repository.lock_period,
            # The directory and the period's facts first: the rest is addressed through them.
            first=(DirectoryUpdated, PeriodOpened),
            after_commit=wake_relay,
            # A whole trust's directory is one record of several MiB (topics.yaml allows 10).
            max_partition_fetch_bytes=16 << 20,
        )
    ]


CONSUMED_TOPICS = consumers(SystemClock())[0].topics
"""Every topic this service reads. None of them says who has answered (a test reads
their schemas to show it); response-submitted and the results are not among them."""
