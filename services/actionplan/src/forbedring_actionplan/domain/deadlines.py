"""When a plan or measure is reminded of its deadline: 30, 14, 7 and 1 days before, and
once overdue (threshold 0). Each (subject, deadline, threshold) is reminded at most once;
when several are due at once (the scheduler was down, or a deadline was just set close),
only the most urgent is sent and the others count as passed. Moving a deadline re-arms
the thresholds of the new date that are still ahead; those already behind it count as
passed, so nothing is sent twice or late."""

from datetime import date

THRESHOLDS = (30, 14, 7, 1)
OVERDUE = 0


def days_left(deadline: date, today: date) -> int:
    return (deadline - today).days


def due(deadline: date, today: date) -> int | None:
    """The most urgent threshold reached by `today`, or None while it is more than 30 days
    off."""
    left = days_left(deadline, today)
    if left < 0:
        return OVERDUE
    reached = [t for t in THRESHOLDS if left <= t]
    return min(reached) if reached else None


def passed_with(threshold: int) -> tuple[int, ...]:
    """The thresholds that count as passed when `threshold` is reminded (itself and every
    earlier one)."""
    if threshold == OVERDUE:
        return (*THRESHOLDS, OVERDUE)
    return tuple(t for t in THRESHOLDS if t >= threshold)


def already_behind(deadline: date, today: date) -> tuple[int, ...]:
    """The thresholds whose day is before `today` for this deadline: a newly set or moved
    deadline does not remind of them."""
    left = days_left(deadline, today)
    behind = tuple(t for t in THRESHOLDS if left < t)
    return behind
