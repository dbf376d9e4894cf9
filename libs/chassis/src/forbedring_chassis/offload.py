"""A batch consumer's per-record work, done in worker processes.

Decoding an event (the envelope, the contract's validation) and what a service does
with each one are CPU-bound Python, and one process uses one core. With an `Offload`,
each slice of a batch goes to a pool of worker processes as raw records; a worker
decodes them and hands the events of the offloaded topics to the service's `digest`,
which reduces them to something small (the aggregation service: counter vectors per
unit). What comes back is that digest and the digested events' ids, not the events:
pickled models would cost the consumer more than decoding them itself.

A worker leaves some records to the consumer, which decodes them as it would without
an offload: records of other topics, records that are no valid event, a repeated id
within the slice, and the events the digest declines (e.g. those its context cannot
take yet).
The consumer keeps every guarantee: the digested ids go into `processed_events` with
the rest, and when one of them turns out to be a redelivery, the digest is thrown away
and the slice's events are applied the ordinary way.
"""

import asyncio
import gc
import importlib
import marshal
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis import wire

Digest = Callable[[Any, Sequence[Any]], tuple[Any, Sequence[int]]]
"""`digest(context, events) -> (digest, declined)`, run in a worker: `declined` are the
positions (in `events`) of the events it did not take. A module-level function, as it
is sent to the workers by name."""


@dataclass(frozen=True)
class Offload:
    """Digest the events of `topics` in `workers` processes. Per batch, `context(session)`
    is called in the consumer's process (before the batch's transaction) and sent along
    with each slice (it must pickle). The slices' digests are merged as they come back
    (`merge(a, b)`, in the consumer's process while the workers go on), and `apply(
    session, digest)` applies the batch's at the end of its transaction, after its other
    events: what a digest does must not depend on their order. (Once per batch: the
    aggregation service then writes each unit's counters once a batch rather than once
    a slice.)"""

    topics: tuple[str, ...]
    digest: Digest
    context: Callable[[AsyncSession], Awaitable[Any]]
    merge: Callable[[Any, Any], Any]
    apply: Callable[[AsyncSession, Any], Awaitable[None]]
    workers: int


Row = tuple[bytes | None, Sequence[tuple[str, bytes]], bytes | None, str]
"""A record as a worker gets it: value, headers, key, registered topic name."""

_MARSHAL_VERSION = 4


def pack(rows: Sequence[Row]) -> bytes:
    """A slice's rows as one `marshal` blob, which the pool then pickles as plain bytes.
    Pickling the rows themselves (a tuple and a list of header pairs per record, each
    object memoised) took the consumer's process about 5 us a record, a third of its CPU;
    marshal takes under 1 us (measured, 20,000 records). Both ends are the same Python,
    and the blob is built here from bytes and strings, so marshal's caveats do not apply."""
    return marshal.dumps(list(rows), _MARSHAL_VERSION)


class Digested(NamedTuple):
    digest: Any
    ids: list[str]
    """The digested events' ids, in the order of their records."""
    left: list[int]
    """Positions in the slice of the records the worker did not digest, ascending."""


def digest_slice(digest: Digest, context: Any, topics: frozenset[str], packed: bytes) -> Digested:
    """The worker's side: decode the rows (`pack`) and digest the events of `topics`."""
    rows: Sequence[Row] = marshal.loads(packed)  # noqa: S302 (our own blob: see `pack`)
    events: list[Any] = []
    ids: list[str] = []
    taken: list[int] = []
    left: list[int] = []
    seen: set[str] = set()
    for position, (value, headers, key, topic) in enumerate(rows):
        if topic not in topics:
            left.append(position)
            continue
        try:
            received = wire.decode(value, headers, key=key, topic=topic)
        except wire.InvalidEvent:
            left.append(position)  # the consumer decodes it again and dead-letters it
            continue
        if received.id in seen:
            left.append(position)
            continue
        seen.add(received.id)
        events.append(received.event)
        ids.append(received.id)
        taken.append(position)
    result, declined = digest(context, events)
    if declined:
        dropped = set(declined)
        left.extend(taken[i] for i in dropped)
        left.sort()
        ids = [event_id for i, event_id in enumerate(ids) if i not in dropped]
    return Digested(result, ids, left)


def _start_worker(module: str) -> None:
    # Import the digest's service once, then keep what was imported out of the garbage
    # collector's walks (as the service's own process does). Unlike there, a higher
    # threshold for the young generation measured no better here.
    importlib.import_module(module)
    gc.freeze()
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()


def _exit_with_parent() -> None:
    """A worker waits for its next slice on a pipe it also holds the writing end of, so
    a consumer killed outright (SIGKILL, out of memory) would leave it waiting forever."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)


def _ready() -> None:
    pass


class Workers:
    """An offload's pool of worker processes. Spawned, not forked: the consumer's process
    runs threads (the event loop's executor, the telemetry exporter) that a fork would
    copy mid-step."""

    def __init__(self, offload: Offload) -> None:
        self.offload = offload
        self._topics = frozenset(offload.topics)
        self._pool: ProcessPoolExecutor | None = None

    def _running(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.offload.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.offload.digest.__module__,),
            )
        return self._pool

    async def start(self) -> None:
        """Spawn the workers (each imports the service first) and wait until they take
        work, so the first batch does not wait for that (a second or two)."""
        pool = self._running()
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(pool, _ready) for _ in range(self.offload.workers))
        )

    def submit(self, context: Any, rows: Sequence[Row]) -> "asyncio.Future[Digested]":
        job = partial(digest_slice, self.offload.digest, context, self._topics, pack(rows))
        loop = asyncio.get_running_loop()
        try:
            return loop.run_in_executor(self._running(), job)
        except BrokenProcessPool:  # a worker died since the last batch: start anew
            self.stop()
            return loop.run_in_executor(self._running(), job)

    def stop(self) -> None:
        """Let the workers go (the next `submit` starts new ones): when one died and broke
        the pool."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def close(self) -> None:
        """At shutdown, with nothing in flight: let the workers go and wait until they
        have. A pool left to finish on its own as the process exits leaks its queues'
        semaphores (the resource tracker warns of them)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
