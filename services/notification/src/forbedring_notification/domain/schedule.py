"""When mail goes out: reminders, digests, working hours, and retries.

- Reminders: at most two during a period, each a configured number of days before it
  closes; due from then until the period closes.
- Digests: weekly from the period's opening (the 7th, 14th, … day after), daily in the
  last `daily_days` days before closing; only in working hours (08:00-16:00 in the
  recipients' time zone by default) and at most once a day (the day is in the key).
- Retries: exponential backoff from `base_s`, capped at `max_s`.
"""

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def in_working_hours(now: datetime, *, zone: ZoneInfo, start: int, end: int) -> bool:
    local = now.astimezone(zone)
    return start <= local.hour < end and local.weekday() < 5


def reminders_due(
    now: datetime, *, closes_at: datetime, days_before_close: Sequence[float]
) -> list[int]:
    """The reminder numbers (1, 2) whose time has come while the period is still open."""
    if now >= closes_at:
        return []
    return [
        number
        for number, days in enumerate(days_before_close, start=1)
        if now >= closes_at - timedelta(days=days)
    ]


def digest_day(
    now: datetime,
    *,
    opens_at: datetime,
    closes_at: datetime,
    zone: ZoneInfo,
    daily_days: int,
) -> date | None:
    """The local date when today is a digest day of an open period, else None. Weekly on
    the day of the week the period opened (not on the opening day itself: the opening
    email says it all then), daily in the last `daily_days` days."""
    if not opens_at <= now < closes_at:
        return None
    today = now.astimezone(zone).date()
    opened = opens_at.astimezone(zone).date()
    closing = closes_at.astimezone(zone).date()
    days_open = (today - opened).days
    if days_open <= 0:
        return None
    if (closing - today).days < daily_days or days_open % 7 == 0:
        return today
    return None


def backoff_s(attempts: int, *, base_s: float, max_s: float) -> float:
    """The wait after the `attempts`-th failed attempt (1, 2, …): base, 2 base, 4 base, …"""
    exponent = max(attempts - 1, 0)
    if exponent > 60:
        return max_s
    return min(base_s * math.pow(2, exponent), max_s)
