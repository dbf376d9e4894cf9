"""The batches a batch consumer applies in the background, chained one after the other.

The subscriber's handler returns as soon as its batch is queued, so FastStream fetches
the next batch (and the workers digest its slices) while the one before is still being
applied. The chaining keeps what the handler did alone: one batch applied at a time, in
the order fetched, each one's offsets committed before the next is applied.
"""

import asyncio
from collections import deque
from collections.abc import Coroutine
from typing import Any

from forbedring_chassis.logging import get_logger

log = get_logger(__name__)

BATCHES_IN_FLIGHT = 2
"""Batches fetched and not yet applied, at most, once the handler returns: two keep the
workers busy with the next batch's slices while one batch's last steps run (its
upsert, commit, offsets), and aiokafka meanwhile parses a third."""


class InFlight:
    """The batches being applied in the background, one after the other, while the
    consumer fetches the next ones, so the workers (or the database) are not idle while
    aiokafka reads and parses them."""

    def __init__(self, depth: int = BATCHES_IN_FLIGHT) -> None:
        self.depth = depth
        self.tasks: deque[asyncio.Task[None]] = deque()
        self.closing = False

    async def follow(self, work: Coroutine[Any, Any, None]) -> None:
        """Apply `work` once the batch before has been applied and committed; return when
        no more than `depth` batches are in flight (none while closing). Shielded: a
        handler cancelled at shutdown does not cancel a batch half-applied."""
        previous = self.tasks[-1] if self.tasks else None
        self.tasks.append(asyncio.create_task(self._after(previous, work)))
        while len(self.tasks) > (0 if self.closing else self.depth):
            oldest = self.tasks[0]
            await asyncio.shield(oldest)
            if self.tasks and self.tasks[0] is oldest:
                self.tasks.popleft()

    @staticmethod
    async def _after(previous: asyncio.Task[None] | None, work: Coroutine[Any, Any, None]) -> None:
        try:
            if previous is not None:
                await asyncio.shield(previous)
        except asyncio.CancelledError:
            work.close()
            raise
        await work

    async def drain(self, timeout_s: float) -> None:
        """Let the batches in flight finish (and any later one be applied in its handler),
        for at most `timeout_s`: one stuck on an outage is given up, uncommitted, to be
        delivered again."""
        self.closing = True
        if not self.tasks:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self.tasks[-1]), timeout_s)
        except TimeoutError:
            log.warning("consumer.batches_abandoned_at_shutdown", batches=len(self.tasks))
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            self.tasks.clear()
