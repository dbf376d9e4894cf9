"""One batch consumer for the eight topics notification reads (one member of the consumer
group, so no rebalance per topic); a thin dispatch to the use cases of `ingest` and
`announcements`. The batch's rows, its inbox rows and nothing else commit together; the
mail relay is woken after the commit and sends them."""

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.clock import Clock
from forbedring_chassis.runtime import ConsumesBatches, Runtime
from forbedring_contracts import topics
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

CONSUMED_TOPICS = (
    topics.DIRECTORY_UPDATED,
    topics.PERIOD_OPENED,
    topics.PARTICIPATION_CHANGED,
    topics.PERIOD_CLOSED,
    topics.RESULTS_RELEASED,
    topics.PLAN_UPDATED,
    topics.MEASURE_ESCALATED,
    topics.PLAN_DEADLINE_APPROACHING,
)
"""Every topic this service reads. None of them says who has answered (a test reads
their schemas to show it); response-submitted and the results are not among them."""


def _precedence(event: Any) -> int:
    return 0 if isinstance(event, DirectoryUpdated | PeriodOpened) else 1


def consumers(clock: Clock) -> list[ConsumesBatches]:
    async def apply(session: AsyncSession, events: Sequence[Any]) -> None:
        # Lock the batch's periods in one order first: replicas never wait on each other
        # in a cycle, whatever mix of periods their batches hold.
        for period_id in sorted({event.period_id for event in events}):
            await repository.lock_period(session, period_id=period_id)
        now = clock.now()
        # The directory and the period's facts first: events of different topics come in
        # no order between them anyway, and the rest is addressed through them.
        for event in sorted(events, key=_precedence):
            if isinstance(event, DirectoryUpdated):
                await ingest.directory_updated(session, event=event, now=now)
            elif isinstance(event, PeriodOpened):
                await ingest.period_opened(session, event=event, now=now)
            elif isinstance(event, ParticipationChanged):
                await ingest.participation_changed(session, event=event)
            elif isinstance(event, PeriodClosed):
                await ingest.period_closed(session, event=event, now=now)
            elif isinstance(event, ResultsReleased):
                await announcements.results_released(session, event=event, now=now)
            elif isinstance(event, PlanUpdated):
                await announcements.plan_updated(session, event=event, now=now)
            elif isinstance(event, MeasureEscalated):
                await announcements.measure_escalated(session, event=event, now=now)
            elif isinstance(event, PlanDeadlineApproaching):
                await announcements.plan_deadline_approaching(session, event=event, now=now)

    async def wake_relay(runtime: Runtime, events: Sequence[Any]) -> None:
        relay = runtime.extras.get("mail_relay")
        if relay is not None:
            relay.wake()  # type: ignore[attr-defined]

    return [
        ConsumesBatches(
            topics=CONSUMED_TOPICS,
            handler=apply,
            after_commit=wake_relay,
            # A whole trust's directory is one record of several MiB (topics.yaml allows 10).
            max_partition_fetch_bytes=16 << 20,
        )
    ]
