"""The inbox: `processed_events`, the event ids a consumer group has applied.

An event's id is recorded in the same transaction as its effect, so the two commit or
roll back together; a redelivered event (after a crash before the offset commit, or a
rebalance) finds its id there and is skipped. That, with offsets committed only after
the database commit, is what makes the consumers effectively once.
"""

from collections.abc import Sequence

from sqlalchemy import column, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.db import ProcessedEvent

_INSERT_NEW = text(
    """
    INSERT INTO processed_events (consumer, event_id)
    SELECT :consumer, unnest(CAST(:ids AS varchar[]))
    """
)
_INSERT_PROCESSED = text(
    """
    INSERT INTO processed_events (consumer, event_id)
    SELECT :consumer, unnest(CAST(:ids AS varchar[]))
    ON CONFLICT DO NOTHING
    RETURNING event_id
    """
)


class Inbox:
    """The ids one consumer group (`consumer`) has applied. Both methods record the ids in
    the session's transaction: the caller applies the events in that same transaction."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer

    async def first_time(self, session: AsyncSession, event_id: str) -> bool:
        """True when this is the first time the consumer group sees the event."""
        result = await session.exec(
            pg_insert(ProcessedEvent)
            .values(consumer=self.consumer, event_id=event_id)
            .on_conflict_do_nothing()
            .returning(column("event_id"))
        )
        return result.first() is not None

    async def first_times(self, session: AsyncSession, event_ids: Sequence[str]) -> set[str]:
        """The ids among `event_ids` (distinct) the consumer group has not seen before.

        The ids travel as one array, so a batch may be larger than a VALUES list allows.
        Optimistic: almost every batch is new, and a plain INSERT costs about half of an
        INSERT ... ON CONFLICT DO NOTHING RETURNING (measured: 3 vs 5.5 us an id, the
        speculative insertion of every row). Only when the plain INSERT meets an id
        already there (a redelivery, or another instance during a rebalance) is it rolled
        back to its savepoint and the batch sorted out with ON CONFLICT."""
        if not event_ids:
            return set()
        params = {"consumer": self.consumer, "ids": list(event_ids)}
        try:
            async with session.begin_nested():
                await session.exec(_INSERT_NEW, params=params)  # type: ignore[call-overload]
        except IntegrityError:
            pass
        else:
            return set(event_ids)
        result = await session.exec(
            _INSERT_PROCESSED,  # type: ignore[call-overload]
            params=params,
        )
        return {row[0] for row in result.all()}
