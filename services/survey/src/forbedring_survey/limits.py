"""The flood guard on answering: submissions per second for the whole service, in Redis.

Never counted per person or per address: a counter keyed by who answers would, while it
lives, say who answered in which minute, which the anonymity design forbids (docs/
anonymity.md). Per person, answering is bounded anyway: each invitation is answered once.
"""

from forbedring_chassis.ratelimit import RateLimit
from forbedring_chassis.runtime import RuntimeDep
from forbedring_survey.settings import SurveySettings


async def limit_submissions(runtime: RuntimeDep) -> None:
    settings = runtime.settings
    assert isinstance(settings, SurveySettings)
    limit = RateLimit(
        "submission",
        limit=settings.submission_rate_limit_per_s,
        window_s=1,
        message="Many answers are arriving at once. Wait a few seconds and send again: "
        "nothing was stored.",
    )
    await limit.hit(runtime.redis, "all")
