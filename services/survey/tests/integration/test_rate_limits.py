"""The flood guard on answering, on the real Redis: over the service's rate a submission
is refused with 429 and Retry-After, nothing is stored, and sending again later is
accepted. The counter names no one (a per-person counter would date the answer)."""

import asyncio
import time
from typing import Any

from redis.asyncio import Redis

from forbedring_chassis.testing import Databases, Infrastructure
from forbedring_survey.testing import people_of, small_organisation, valid_answers
from services.survey.tests.integration.conftest import open_period, started


async def test_answers_over_the_rate_are_refused_without_storing_anything(
    infrastructure: Infrastructure, databases: Databases, private_topic_prefix: str
) -> None:
    organisation = small_organisation({"a": 2})
    first, second = people_of(organisation, "a")
    async with started(
        infrastructure, databases, private_topic_prefix, submission_rate_limit_per_s=1
    ) as harness:
        await open_period(harness, organisation)
        pending: dict[str, Any] = {}
        for person in (first, second):
            [invitation] = await harness.api.invitations(person)
            pending[person] = invitation["invitation_id"]
        await asyncio.sleep(1.05 - time.time() % 1)  # both early in one second's window
        accepted = await harness.api.submit(first, pending[first], valid_answers())
        refused = await harness.api.submit(second, pending[second], valid_answers())
        assert accepted.status_code == 202, accepted.text
        assert refused.status_code == 429
        assert refused.json()["detail"]["code"] == "too_many_requests"
        assert "nothing was stored" in refused.json()["detail"]["message"]
        assert refused.headers["Retry-After"] == "1"
        [still_open] = await harness.api.invitations(second)
        assert still_open["answered"] is False

        await asyncio.sleep(1.0)  # the next window
        again = await harness.api.submit(second, pending[second], valid_answers())
        assert again.status_code == 202, again.text

    redis = Redis.from_url(infrastructure.redis_url)
    try:
        keys = [k.decode() async for k in redis.scan_iter("ratelimit:submission:*")]
    finally:
        await redis.aclose()
    assert keys, "the counter lives in Redis"
    assert [k for k in keys if first in k or second in k] == [], "no one is named"
