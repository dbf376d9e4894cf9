"""Rate limits shared by every replica, in Redis: a fixed window per key (INCR, and
EXPIRE on the window's first hit, in one transaction). A caller over the limit gets 429
with Retry-After in the one error shape.

When Redis cannot be reached the limit is not applied: the request goes through and a
warning is logged (see docs/security.md). Refusing instead would stop every employee
from answering because a cache is down; a limit guards against floods, and what it
protects is guarded otherwise too (each invitation is answered once)."""

import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request

from forbedring_chassis.errors import ServiceError
from forbedring_chassis.logging import get_logger

log = get_logger(__name__)


class TooManyRequests(ServiceError):
    status_code = 429
    code = "too_many_requests"


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    window_s: int
    message: str

    async def hit(self, redis: Redis, who: str, *, now: float | None = None) -> None:
        """Count one request of `who`; TooManyRequests once over the limit."""
        moment = time.time() if now is None else now
        window = int(moment // self.window_s)
        key = f"ratelimit:{self.name}:{who}:{window}"
        try:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.window_s, nx=True)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("ratelimit.not_applied", limit=self.name, error=type(error).__name__)
            return
        if int(count) > self.limit:
            refused = TooManyRequests(self.message)
            retry_after = max(1, int((window + 1) * self.window_s - moment + 0.999))
            refused.headers["Retry-After"] = str(retry_after)
            raise refused


def client_address(request: Request) -> str:
    """The caller's address (behind the proxy: the one uvicorn took from X-Forwarded-For,
    from trusted proxies only)."""
    return request.client.host if request.client else "unknown"


async def limit_signin(request: Request) -> None:
    """Sign-in starts, callbacks and development sign-ins per minute per client address:
    a guard against password guessing and callback floods at every service."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:  # an app without the chassis runtime (some unit tests)
        return
    limit = RateLimit(
        "signin",
        limit=runtime.settings.signin_rate_limit_per_min,
        window_s=60,
        message="Too many sign-in attempts from here. Wait a minute and try again.",
    )
    # Per deployment namespace too: stacks (and test runs) sharing one Redis count apart.
    await limit.hit(runtime.redis, runtime.settings.kafka_topic_prefix + client_address(request))
