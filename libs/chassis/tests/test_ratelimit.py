"""The shared rate limit on the real Redis: counted across callers of one key, per
window, with Retry-After; and not applied (the request goes through) when Redis cannot
be reached, as docs/security.md says."""

import pytest
from redis.asyncio import Redis

from forbedring_chassis.ratelimit import RateLimit, TooManyRequests
from forbedring_chassis.testing import Infrastructure, unique_name


def a_limit(limit: int = 3, window_s: int = 60) -> RateLimit:
    return RateLimit(unique_name("limit"), limit=limit, window_s=window_s, message="Slow down.")


async def test_over_the_limit_is_refused_until_the_next_window(
    infrastructure: Infrastructure,
) -> None:
    redis = Redis.from_url(infrastructure.redis_url)
    limit = a_limit()
    start = 1_800_000_000.0 + 15  # 15 s into a window
    try:
        for _ in range(3):
            await limit.hit(redis, "10.0.0.1", now=start)
        with pytest.raises(TooManyRequests) as refused:
            await limit.hit(redis, "10.0.0.1", now=start + 1)
        assert refused.value.status_code == 429
        assert refused.value.body()["detail"]["code"] == "too_many_requests"
        assert refused.value.headers["Retry-After"] == "44"
        await limit.hit(redis, "10.0.0.2", now=start + 1)  # another address: its own count
        await limit.hit(redis, "10.0.0.1", now=start + 45)  # the next window
        # The counters expire: nothing is left behind for long.
        keys = [k async for k in redis.scan_iter(f"ratelimit:{limit.name}:*")]
        ttls = [await redis.ttl(k) for k in keys]
        assert ttls
        assert all(0 < ttl <= 60 for ttl in ttls)
    finally:
        await redis.aclose()


async def test_without_redis_the_limit_is_not_applied() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    limit = a_limit(limit=1)
    try:
        for _ in range(5):
            await limit.hit(unreachable, "10.0.0.1")
    finally:
        await unreachable.aclose()
