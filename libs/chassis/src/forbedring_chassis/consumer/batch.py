"""The batch consumer: batches applied in the order fetched, one at a time, each in one
transaction, its offsets committed after that transaction; failures retried in place,
then event by event, so that only what keeps failing is dead-lettered.

`BatchWriter` (`writer`) writes a batch; this module decides what happens around it:
retries, dead letters, offsets and `after_commit`, and `InFlight` chains the batches.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from forbedring_chassis import wire
from forbedring_chassis.consumer.in_flight import InFlight
from forbedring_chassis.consumer.inbox import Inbox
from forbedring_chassis.consumer.kafka import (
    Committer,
    ReadFirst,
    commit_offsets,
    parse_batch,
    raw_body,
    trace_each,
)
from forbedring_chassis.consumer.metrics import EVENTS_PROCESSED
from forbedring_chassis.consumer.policy import Attempts, DeadLetters, position
from forbedring_chassis.consumer.writer import BatchHandler, BatchWriter, Decoded, Digesting
from forbedring_chassis.db import Sessions
from forbedring_chassis.logging import get_logger
from forbedring_chassis.offload import Offload, Workers
from forbedring_chassis.settings import ServiceSettings

log = get_logger(__name__)

AfterCommit = Callable[[Sequence[Any]], Awaitable[None]]
"""`after_commit(applied)`: the events just applied, and the digests (see `Offload`)."""


class BatchConsumer:
    """A batch consumer (`register_batch_consumer` registers one with the broker), for the
    service to start and stop with it. `take` is the subscriber's handler."""

    def __init__(
        self,
        writer: BatchWriter,
        *,
        attempts: Attempts,
        dead_letters: DeadLetters,
        after_commit: AfterCommit | None = None,
        grace_s: float,
        in_flight: InFlight | None = None,
    ) -> None:
        self.writer = writer
        self.attempts = attempts
        self.dead_letters = dead_letters
        self.after_commit = after_commit
        self.in_flight = in_flight or InFlight()
        self._grace_s = grace_s

    @property
    def workers(self) -> Workers | None:
        return self.writer.workers

    async def start(self) -> None:
        """Before the broker starts: the offload's workers, ready to take work."""
        if self.workers is not None:
            await self.workers.start()

    async def drain(self) -> None:
        """Before the broker stops: apply and commit the batch in flight, and every later
        one before it is taken (the broker's consumer must still be there to commit)."""
        await self.in_flight.drain(self._grace_s)

    async def stop(self) -> None:
        """After the broker has stopped."""
        if self.workers is not None:
            await self.workers.close()

    async def take(self, records: Sequence[ConsumerRecord], consumer: Committer) -> None:
        """A batch fetched: sent to the workers at once, to digest while the batch before
        finishes, and applied after it. Returns while it is applied, unless as many
        batches are in flight as `InFlight` allows."""
        if not records:
            return
        digesting = await self.writer.submit(records)
        await self.in_flight.follow(self.process(records, digesting, consumer))

    async def process(
        self, records: Sequence[ConsumerRecord], digesting: Digesting | None, consumer: Committer
    ) -> None:
        """Apply the batch (retried in place, then event by event), dead-letter what
        could not be decoded, commit the offsets. Never raises: a later batch's offsets
        would be committed past this one's events. Anything unforeseen starts it over
        (applying a batch again applies none of its events twice)."""
        while True:
            try:
                await self.process_once(records, digesting, consumer)
                return
            except Exception:
                log.exception("consumer.batch_failed", topics=self.writer.label)
                digesting = None
                await asyncio.sleep(self.attempts.backoff_s)

    async def process_once(
        self, records: Sequence[ConsumerRecord], digesting: Digesting | None, consumer: Committer
    ) -> None:
        at = position(records[0])
        started = time.time_ns()
        batch, applied = await self._apply(records, digesting)
        # Only after the commit, so a batch applied again does not dead-letter twice.
        for record, reason in batch.invalid:
            await self.dead_letters.send_retried(record, f"invalid event: {reason}", self.attempts)
        self.attempts.done(at)
        trace_each(records, started)
        await commit_offsets(consumer, records)
        self._count_processed(records)
        if self.after_commit is not None and applied:
            try:
                await self.after_commit(applied)
            except Exception:
                log.exception("consumer.after_commit_failed", topics=self.writer.label)

    def _count_processed(self, records: Sequence[ConsumerRecord]) -> None:
        """Per topic (a batch may mix them); one pass, a fraction of a microsecond each."""
        for topic, count in Counter(record.topic for record in records).items():
            EVENTS_PROCESSED.labels(self.writer.names[topic]).inc(count)

    async def _apply(
        self, records: Sequence[ConsumerRecord], digesting: Digesting | None
    ) -> tuple[Decoded, list[Any]]:
        """The batch applied as a whole, again while `attempts` allows, counted against its
        first record; then event by event. The batch as decoded, and what was applied."""
        first = records[0]
        at = position(first)
        while True:
            batch = Decoded()
            try:
                return batch, await self.writer.pipelined(records, batch, digesting)
            except Exception as exc:
                digesting = None  # spent: an attempt again sends the slices again
                if await self.attempts.should_retry(exc, at, first.topic):
                    continue
                self.attempts.done(at)  # the first event's own count starts afresh
                batch = self.writer.decode_all(records)
                return batch, await self._apply_one_by_one(batch.decoded)

    async def _apply_one_by_one(
        self, decoded: Sequence[tuple[ConsumerRecord, wire.Envelope]]
    ) -> list[Any]:
        """Each event in its own transaction, under the same retry policy as a batch:
        only an event that keeps failing is dead-lettered, not one that failed in passing."""
        applied: list[Any] = []
        for record, received in decoded:
            at = position(record)
            while True:
                try:
                    applied.extend(await self.writer.apply([received]))
                    break
                except Exception as exc:
                    if not await self.attempts.should_retry(exc, at, record.topic):
                        await self.dead_letters.send(record, f"{type(exc).__name__}: {exc}")
                        break
            self.attempts.done(at)
        return applied


def register_batch_consumer(
    broker: KafkaBroker,
    *,
    settings: ServiceSettings,
    sessions: Sessions,
    topics: Sequence[str],
    handler: BatchHandler,
    after_commit: AfterCommit | None = None,
    max_records: int = 1000,
    batch_timeout_ms: int = 100,
    max_partition_fetch_bytes: int = 1 << 20,
    slice_records: int | None = None,
    offload: Offload | None = None,
    read_first: Sequence[str] = (),
) -> BatchConsumer:
    """Subscribe `handler(session, events)` to batches of `topics`, effectively once.

    One consumer (one member of the group) for all the topics: a batch may mix their
    events, in the order each partition delivered them. (Several subscribers in one group
    would each join it in turn, and every join is a rebalance of the others.)

    The same guarantees as `register_consumer`, per batch: the batch's event ids go into
    `processed_events` in the same transaction as the handler's effect, and the handler
    gets only the events seen for the first time (duplicates within the batch or seen
    before are dropped). A batch is applied in slices of `slice_records` (default: the
    whole batch), each decoded while the one before is written, and `handler` is called
    once per slice, all in the batch's one transaction. A batch is applied in the
    background while the next one is fetched (one at a time, in order); its offsets are
    committed only after its database commit, and before the next batch is applied. On
    an error the batch is applied again, in place. Records that cannot be decoded are
    dead-lettered one by one and the rest of the batch is applied. A batch that keeps
    failing for another reason than an outage is applied event by event, each with as
    many attempts, so only the event(s) that keep failing are dead-lettered.
    `after_commit(events)` runs after the commit with the events just applied; its
    failures are logged, never retried. With an `offload`, worker processes decode and
    digest the slices (see `offload`). The topics in `read_first` are read to their end
    before the others, after every assignment of partitions.
    """
    names = {settings.topic(name): name for name in topics}
    writer = BatchWriter(
        sessions=sessions,
        inbox=Inbox(settings.group_id),
        handler=handler,
        names=names,
        slice_records=slice_records or max_records,
        offload=offload,
        label=",".join(topics),
    )
    consumer = BatchConsumer(
        writer,
        attempts=Attempts.of(settings, names),
        dead_letters=DeadLetters.of(broker, settings, names),
        after_commit=after_commit,
        grace_s=settings.shutdown_grace_s,
    )
    first = frozenset(settings.topic(name) for name in read_first)

    # MANUAL: FastStream neither commits nor rewinds; each batch commits its own offsets
    # once applied (`BatchConsumer.process`), which may be after the next batch was fetched.
    subscriber = broker.subscriber(
        *names,
        group_id=settings.group_id,
        listener=ReadFirst(first, lambda: subscriber.consumer) if first else None,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=raw_body,
        batch=True,
        parser=parse_batch,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        max_partition_fetch_bytes=max_partition_fetch_bytes,
    )

    @subscriber
    async def consume(body: Any, message: KafkaMessage) -> None:
        # The aiokafka consumer that fetched the batch (FastStream types it as a protocol
        # with less than committing given offsets needs).
        fetched_by: AIOKafkaConsumer = message.consumer
        await consumer.take(message.raw_message, fetched_by)

    _ = consume
    return consumer
