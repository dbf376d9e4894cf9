"""Report data in Redis, computed once per key under concurrent load (single flight).

Two levels: within a process, concurrent readers of one key share one flight (an
asyncio future), so a burst costs one Redis conversation per process and key, not one
per request (the Redis pool is finite); across processes, the first reader of a missing
key takes the key's lock (`SET NX PX`) and computes; the
others wait for the value to appear (or for the lock to go, then try again), so 500
requests at the release moment compute a report once, across replicas too. Values are
dropped when a stage is released (`invalidate_period`).

Redis is a cache here, not a store: when it cannot be reached, each request computes
its report from the database and is served uncached (`publication.cache.unavailable`
logged), rather than failing.
"""

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from forbedring_chassis.logging import get_logger

log = get_logger(__name__)

_RELEASE_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class ReportCache:
    def __init__(
        self,
        *,
        redis: Redis,
        namespace: str,
        ttl_s: int,
        lock_ttl_s: float,
        wait_s: float,
        poll_s: float = 0.01,
    ) -> None:
        self._redis = redis
        self._namespace = namespace
        self._ttl_s = ttl_s
        self._lock_ms = int(lock_ttl_s * 1000)
        self._wait_s = wait_s
        self._poll_s = poll_s
        self._flights: dict[str, asyncio.Task[bytes]] = {}
        self.computations: Counter[str] = Counter()
        """How often this process computed each key (for tests and benchmarks)."""

    def key(self, *, period_id: str, unit_id: str, stage: int, language: str) -> str:
        return f"{self._namespace}report:{period_id}:{unit_id}:stage-{stage}:{language}"

    def _period_pattern(self, period_id: str) -> str:
        return f"{_glob_escape(self._namespace)}report:{_glob_escape(period_id)}:*"

    async def get_or_compute(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The value of `key`, computed by `compute()` at most once at a time anywhere.
        The flight is a task of its own: a reader that goes away does not cancel it for
        the others."""
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.create_task(self._shared(key, compute), name=f"cache {key}")
            self._flights[key] = flight
            flight.add_done_callback(lambda _: self._flights.pop(key, None))
        return await asyncio.shield(flight)

    async def _shared(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        try:
            return await self._through_redis(key, compute)
        except (RedisError, OSError) as error:
            log.warning("publication.cache.unavailable", key=key, error=type(error).__name__)
            value = await compute()
            self.computations[key] += 1
            return value

    async def _through_redis(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        deadline = asyncio.get_running_loop().time() + self._wait_s
        while True:
            cached = _as_bytes(await self._redis.get(key))
            if cached is not None:
                return cached
            token = uuid.uuid4().hex
            lock = f"{key}:lock"
            if await self._redis.set(lock, token, nx=True, px=self._lock_ms):
                try:
                    cached = _as_bytes(await self._redis.get(key))  # filled meanwhile
                    if cached is not None:
                        return cached
                    value = await compute()
                    self.computations[key] += 1
                    await self._redis.set(key, value, ex=self._ttl_s)
                    return value
                finally:
                    await self._redis.eval(_RELEASE_IF_OWNER, 1, lock, token)
            # Someone else computes: wait for the value, or for their lock to go.
            while await self._redis.exists(lock):
                if asyncio.get_running_loop().time() > deadline:
                    log.warning("publication.cache.wait_timeout", key=key)
                    value = await compute()  # serve the reader; do not store
                    self.computations[key] += 1
                    return value
                await asyncio.sleep(self._poll_s)

    async def invalidate_period(self, period_id: str) -> int:
        removed = 0
        async for key in self._redis.scan_iter(match=self._period_pattern(period_id), count=500):
            removed += int(await self._redis.delete(key))
        log.info("publication.cache.invalidated", period_id=period_id, keys=removed)
        return removed


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _glob_escape(text: str) -> str:
    """`text` matched literally in a Redis SCAN pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
