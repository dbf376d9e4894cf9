"""The plan view (`plan_view.view`, as JSON) in Redis, keyed so that a key never goes
stale: the plan, its revision (every edit of the plan and every escalation step bumps
it), the language, what the reader may do (the view shows it), and a stamp of what the
view shows from outside the plan: every period row's version (period events, and the
directory, whose replacement touches its period's row), and the revisions of the other
plans it shows measures of (the plans escalating to it, the unit's plans of other
periods, whose unfinished measures are offered for carry-over).

The access check is done before the cache is asked (`context.load`): a cached view is
only ever given to someone who may read the plan. Redis is a cache, not a store: when it
cannot be reached, the view is computed and served uncached."""

import hashlib

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_actionplan.context import PlanContext
from forbedring_chassis.logging import get_logger

log = get_logger(__name__)

TTL_S = 3600

_STAMP = text(
    """
    SELECT (SELECT string_agg(period_id || '@' || xmin::text, ',' ORDER BY period_id)
              FROM actionplan_periods),
           (SELECT string_agg(o.plan_id || '@' || o.revision::text, ',' ORDER BY o.plan_id)
              FROM actionplan_plans o
             WHERE o.plan_id IN (SELECT e.from_plan_id FROM actionplan_escalations e
                                  WHERE e.to_plan_id = :plan_id)
                OR (o.unit_id = :unit_id AND o.period_id <> :period_id))
    """
)


async def key(session: AsyncSession, context: PlanContext, language: str) -> str:
    """Read after the access check and before the view, so the view is never older than
    its key."""
    plan = context.plan
    periods, others = (
        await session.exec(  # type: ignore[call-overload]
            _STAMP.bindparams(plan_id=plan.plan_id, unit_id=plan.unit_id, period_id=plan.period_id)
        )
    ).one()
    stamp = hashlib.sha256(f"{periods}|{others}".encode()).hexdigest()[:32]
    access = context.access
    return (
        f"actionplan:view:v1:{plan.plan_id}:{plan.revision}:{language}:"
        f"{int(access.edit)}{int(access.comment)}{access.as_}:{stamp}"
    )


class ViewCache:
    def __init__(self, redis: Redis, ttl_s: int = TTL_S) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(key)
        except (RedisError, OSError) as error:
            log.warning("actionplan.cache.unavailable", error=type(error).__name__)
            return None
        return value.encode() if isinstance(value, str) else value

    async def put(self, key: str, value: bytes) -> None:
        try:
            await self._redis.set(key, value, ex=self._ttl_s)
        except (RedisError, OSError) as error:
            log.warning("actionplan.cache.unavailable", error=type(error).__name__)
