"""A batch consumer as a table: each event model to the use case that applies it. The
topics follow from the models, so the list a service reads cannot drift from what it
handles, and a topic whose model has no handler is refused at start-up."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.runtime import ConsumesBatches
from forbedring_contracts import topics
from forbedring_contracts.events.base import Event

EventHandler = Callable[[AsyncSession, Any, datetime], Awaitable[object]]
"""`handler(session, event, now)`: apply one event in the batch's transaction."""

PeriodLock = Callable[..., Awaitable[object]]
"""`lock(session, period_id=...)`: the service's row lock on one period."""


def dispatching(
    handlers: Mapping[type[Event], EventHandler],
    *,
    now: Callable[[], datetime],
    lock_period: PeriodLock | None = None,
    first: tuple[type[Event], ...] = (),
    **options: Any,
) -> ConsumesBatches:
    """One batch consumer for the topics of `handlers`' models (one member of the consumer
    group, so no rebalance per topic). `now` is read once a batch.

    With `lock_period`, the batch's periods are locked first, in one order: replicas never
    wait on each other in a cycle, whatever mix of periods their batches hold. Events of
    the `first` models are applied before the rest, in arrival order otherwise (events of
    different topics come in no order between them anyway)."""
    names = tuple(dict.fromkeys(topics.topic_for_model(model).name for model in handlers))
    for name in names:
        unhandled = [m.__name__ for m in topics.topic(name).models if m not in handlers]
        if unhandled:
            msg = f"{name} may carry {', '.join(unhandled)}, which no handler applies"
            raise ValueError(msg)

    async def apply(session: AsyncSession, events: Sequence[Any]) -> None:
        if lock_period is not None:
            for period_id in sorted({event.period_id for event in events}):
                await lock_period(session, period_id=period_id)
        moment = now()
        ordered = sorted(events, key=lambda e: not isinstance(e, first)) if first else events
        for event in ordered:
            await handlers[type(event)](session, event, moment)

    return ConsumesBatches(topics=names, handler=apply, **options)
