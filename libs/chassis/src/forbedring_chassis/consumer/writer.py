"""Writing one batch: its events and their ids in one transaction, a slice at a time.

The batch is cut into slices, and each slice is decoded while the one before is being
written, so the database (on another core) and this process work at the same time
instead of one waiting for the other. With an offload, worker processes decode and
digest the slices first (see `offload`), and this process decodes only what they leave.
Every event id goes into the inbox in the batch's transaction, and the handler gets only
the events seen for the first time.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NamedTuple

from aiokafka import ConsumerRecord
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis import wire
from forbedring_chassis.consumer.inbox import Inbox
from forbedring_chassis.consumer.metrics import EVENTS_APPLIED, EVENTS_DIGESTED, EVENTS_DUPLICATE
from forbedring_chassis.db import Sessions
from forbedring_chassis.faults import crash_point
from forbedring_chassis.logging import get_logger
from forbedring_chassis.offload import Digested, Offload, Workers

log = get_logger(__name__)

BatchHandler = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]
"""`handler(session, events)`: apply events seen for the first time, in arrival order."""

Digesting = list["asyncio.Future[Digested] | None"]
"""Per slice, the workers' digest to come (None: the slice is decoded here)."""

YIELD_EVERY = 200
"""Records decoded between two chances for the slice being written to send its next
statement (a few milliseconds of decoding)."""


@dataclass
class Decoded:
    """A batch's records as decoded: the events, and those that could not be, with why."""

    decoded: list[tuple[ConsumerRecord, wire.Envelope]] = field(default_factory=list)
    invalid: list[tuple[ConsumerRecord, str]] = field(default_factory=list)


class Taken(NamedTuple):
    """A slice's events digested by a worker: the digest, their ids, their records."""

    digest: Any
    ids: list[str]
    records: list[ConsumerRecord]


class SliceApplied(NamedTuple):
    events: list[Any]
    """The events applied by the handler."""
    digest: Any = None
    """The workers' digest of the slice's other events, to apply with the batch's."""
    digested: int = 0
    """How many events the digest stands for."""


def slices(total: int, size: int) -> list[tuple[int, int]]:
    """(start, stop) of each slice: `size` records, but the first and last ones short (a
    fifth of that), because nothing overlaps the decoding of the first slice, nor the
    writing of the last one."""
    if total <= size:
        return [(0, total)]
    short = max(1, size // 5)
    bounds = [0, *range(short, total - short, size), total - short, total]
    return list(pairwise(bounds))


def take_digested(
    part: Sequence[ConsumerRecord], digested: Digested, seen: set[str]
) -> tuple[Taken | None, Sequence[ConsumerRecord]]:
    """What of a slice the workers' digest stands for, and the records left to decode
    here. A digest with an id already seen in the batch (the same event twice, across
    slices) is not taken, as it would apply that event again: the whole slice is then
    decoded here, where a repeated id is dropped. `seen` gets the ids taken."""
    if not seen.isdisjoint(digested.ids):
        return None, part
    seen.update(digested.ids)
    left = set(digested.left)
    taken = Taken(digested.digest, digested.ids, [r for i, r in enumerate(part) if i not in left])
    return taken, [part[i] for i in digested.left]


@dataclass
class Tally:
    """What a batch's slices applied, added up as each is written: the events (for
    `after_commit`), the digests merged (applied once, at the end of the batch), and
    counts for the metrics."""

    merge: Callable[[Any, Any], Any] | None
    events: list[Any] = field(default_factory=list)
    digest: Any = None
    applied: int = 0
    digested: int = 0

    def add(self, written: SliceApplied) -> None:
        self.events.extend(written.events)
        self.applied += len(written.events) + written.digested
        self.digested += written.digested
        if written.digest is not None:
            if self.digest is None:
                self.digest = written.digest
            else:
                assert self.merge is not None
                self.digest = self.merge(self.digest, written.digest)


class BatchWriter:
    """Applies batches of records of the topics in `names` (the full topic names mapped to
    the registered ones) with `handler`, each in one transaction. Retries, dead letters
    and offsets are the caller's (`BatchConsumer`): a write either commits or raises."""

    def __init__(
        self,
        *,
        sessions: Sessions,
        inbox: Inbox,
        handler: BatchHandler,
        names: Mapping[str, str],
        slice_records: int,
        offload: Offload | None = None,
        label: str,
    ) -> None:
        self.sessions = sessions
        self.inbox = inbox
        self.handler = handler
        self.names = names
        self.slice_records = slice_records
        self.offload = offload
        self.workers = Workers(offload) if offload is not None else None
        self.label = label

    def decode(self, record: ConsumerRecord, batch: Decoded) -> wire.Envelope | None:
        """The record's event, noted in `batch`; None, noted as invalid, if it is none."""
        try:
            received = wire.decode(
                record.value,
                list(record.headers or ()),
                key=record.key,
                topic=self.names[record.topic],
            )
        except wire.InvalidEvent as exc:
            batch.invalid.append((record, str(exc)))
            return None
        batch.decoded.append((record, received))
        return received

    def decode_all(self, records: Sequence[ConsumerRecord]) -> Decoded:
        batch = Decoded()
        for record in records:
            self.decode(record, batch)
        return batch

    async def submit(self, records: Sequence[ConsumerRecord]) -> Digesting:
        """Each slice sent to the workers (None each without an offload, or when the
        context cannot be read: the slices are then decoded here)."""
        bounds = slices(len(records), self.slice_records)
        if self.workers is None:
            return [None] * len(bounds)
        try:
            async with self.sessions() as session:
                context = await self.workers.offload.context(session)
            names = self.names
            return [
                self.workers.submit(
                    context, [(r.value, r.headers, r.key, names[r.topic]) for r in records[a:b]]
                )
                for a, b in bounds
            ]
        except Exception as exc:  # an outage: the attempt to apply will meet it too
            log.warning("consumer.offload_failed", topics=self.label, error=str(exc))
            return [None] * len(bounds)

    async def pipelined(
        self,
        records: Sequence[ConsumerRecord],
        batch: Decoded,
        digesting: Digesting | None = None,
    ) -> list[Any]:
        """Decode the batch a slice at a time (noting each record in `batch`), and apply
        each slice in the batch's one transaction while the next slice decodes; the
        events applied, and the batch's digest last. The decoding loop yields every few
        hundred records so the slice's statements go out as soon as the one before
        returns. `digesting` is `submit`'s, else the slices are submitted here."""
        tally = Tally(None if self.offload is None else self.offload.merge)
        received = 0
        seen: set[str] = set()
        decode = self.decode
        bounds = slices(len(records), self.slice_records)
        if digesting is None:
            digesting = await self.submit(records)
        async with self.sessions() as session, session.begin():
            writing: asyncio.Task[SliceApplied] | None = None
            try:
                for (start, stop), future in zip(bounds, digesting, strict=True):
                    part: Sequence[ConsumerRecord] = records[start:stop]
                    digested = None if future is None else await self._digested(future)
                    taken = None
                    if digested is not None:
                        taken, part = take_digested(part, digested, seen)
                        if taken is not None:
                            received += len(taken.ids)
                    envelopes: list[wire.Envelope] = []
                    for index, record in enumerate(part):
                        envelope = decode(record, batch)
                        if envelope is not None and envelope.id not in seen:
                            seen.add(envelope.id)
                            envelopes.append(envelope)
                        if writing is not None and index % YIELD_EVERY == 0:
                            await asyncio.sleep(0)
                    if writing is not None:
                        tally.add(await writing)
                    writing = asyncio.ensure_future(self._apply_slice(session, envelopes, taken))
                if writing is not None:
                    tally.add(await writing)
                    writing = None
                if tally.digest is not None:
                    assert self.offload is not None
                    await self.offload.apply(session, tally.digest)
                    tally.events.append(tally.digest)
            finally:
                for future in digesting:
                    if future is not None:
                        future.cancel()
                if writing is not None:  # decoding failed: the transaction rolls back
                    writing.cancel()
                    await asyncio.gather(writing, return_exceptions=True)
        self._committed(received=len(batch.decoded) + received, applied=tally.applied)
        EVENTS_DIGESTED.labels(self.label).inc(tally.digested)
        return tally.events

    async def apply(self, envelopes: Sequence[wire.Envelope]) -> list[Any]:
        """`envelopes` in a transaction of their own, unsliced, without the workers (the
        consumer applying a batch event by event); the events applied."""
        async with self.sessions() as session, session.begin():
            events = (await self._apply_slice(session, envelopes)).events
        self._committed(received=len(envelopes), applied=len(events))
        return events

    async def _digested(self, future: "asyncio.Future[Digested]") -> Digested | None:
        """The workers' result; None when the pool broke (a worker died): this process
        then decodes the slice itself, and the next batch starts new workers."""
        try:
            return await future
        except BrokenProcessPool:
            log.error("consumer.worker_pool_broken", topics=self.label)
            assert self.workers is not None
            self.workers.stop()
            return None

    async def _apply_slice(
        self, session: AsyncSession, envelopes: Sequence[wire.Envelope], taken: Taken | None = None
    ) -> SliceApplied:
        """Record the slice's ids (distinct within the batch) and apply the new events;
        the workers' digest of the others is to be applied, unless one of them was
        applied before."""
        ids = [e.id for e in envelopes]
        if taken is not None:
            ids.extend(taken.ids)
        # Sorted: two instances inserting overlapping ids (around a rebalance) take the
        # unique-index locks of a slice in the same order. Across slices they may not; the
        # database then aborts one of them, which retries like an outage.
        fresh = await self.inbox.first_times(session, sorted(ids))
        events = [envelope.event for envelope in envelopes if envelope.id in fresh]
        if taken is not None and not fresh.issuperset(taken.ids):
            # Some were applied before (a redelivery): the digest would apply them again.
            for record in taken.records:
                envelope = wire.decode(
                    record.value, record.headers, key=record.key, topic=self.names[record.topic]
                )
                if envelope.id in fresh:
                    events.append(envelope.event)
            taken = None
        if events:
            await self.handler(session, events)
        if taken is None:
            return SliceApplied(events)
        return SliceApplied(events, taken.digest, len(taken.ids))

    def _committed(self, *, received: int, applied: int) -> None:
        skipped = received - applied
        if skipped:
            EVENTS_DUPLICATE.labels(self.label).inc(skipped)
            log.info("consumer.duplicates_skipped", topics=self.label, count=skipped)
        EVENTS_APPLIED.labels(self.label).inc(applied)
        # The database has committed; the offsets have not. A crash here must not double-count.
        crash_point("after-db-commit")
