"""Use cases run by the scheduler: reminders to every invited employee, and the leaders'
participation digests, for each open period. Each writes ledger rows keyed by the
reminder's number or the digest's day, so a tick that runs twice (or on two replicas)
writes nothing twice."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_notification import ledger, repository
from forbedring_notification.domain import schedule
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.domain.participation import Tree
from forbedring_notification.ledger import Letter, iso
from forbedring_notification.models import Period


@dataclass(frozen=True)
class Rules:
    zone: ZoneInfo
    working_hours: tuple[int, int]
    reminder_days_before_close: tuple[float, ...]
    digest_daily_days: int


async def due_mail(session: AsyncSession, *, now: datetime, rules: Rules) -> int:
    """Write the reminders and digests due at `now`; returns how many rows were new."""
    start, end = rules.working_hours
    if not schedule.in_working_hours(now, zone=rules.zone, start=start, end=end):
        return 0
    written = 0
    for period in await repository.open_periods(session, now=now):
        written += await _reminders(session, period, now=now, rules=rules)
        written += await _digests(session, period, now=now, rules=rules)
    return written


def _context(period: Period) -> dict[str, object]:
    return {
        "period_id": period.period_id,
        "period_name": period.name or period.period_id,
        "closes_at": iso(period.closes_at),
        "k": period.k or 5,
    }


async def _reminders(session: AsyncSession, period: Period, *, now: datetime, rules: Rules) -> int:
    assert period.closes_at is not None
    numbers = schedule.reminders_due(
        now, closes_at=period.closes_at, days_before_close=rules.reminder_days_before_close
    )
    if not numbers:
        return 0
    directory = await repository.directory(session, period_id=period.period_id)
    # Every member of every unit: whether a person has answered is unknown here.
    letters = [
        Letter(
            kind=Kind.REMINDER,
            fact=f"reminder:{period.period_id}:{number}",
            person_id=person_id,
            unit_id=units[0],
            reason=f"reminder {number}: to everyone invited for a unit",
            context={
                **_context(period),
                "number": number,
                "units": [directory.unit_name(u) for u in units],
            },
        )
        for number in numbers
        for person_id, units in directory.member_units().items()
    ]
    return await ledger.write(
        session, letters, people=directory.people, period_id=period.period_id, now=now
    )


async def _digests(session: AsyncSession, period: Period, *, now: datetime, rules: Rules) -> int:
    assert period.opens_at is not None
    assert period.closes_at is not None
    day = schedule.digest_day(
        now,
        opens_at=period.opens_at,
        closes_at=period.closes_at,
        zone=rules.zone,
        daily_days=rules.digest_daily_days,
    )
    if day is None:
        return 0
    directory = await repository.directory(session, period_id=period.period_id)
    tree = Tree(await repository.unit_counts(session, period_id=period.period_id), k=period.k or 5)
    letters = [
        Letter(
            kind=Kind.PARTICIPATION_DIGEST,
            fact=f"digest:{period.period_id}:{day.isoformat()}",
            person_id=person_id,
            unit_id=units[0],
            reason=f"participation digest of {day.isoformat()}: you lead these units",
            context={
                **_context(period),
                "day": day.isoformat(),
                "units": [ledger.digest_context(tree.digest(u)) for u in units if u in tree.units],
            },
        )
        for person_id, units in directory.leaders().items()
    ]
    return await ledger.write(
        session, letters, people=directory.people, period_id=period.period_id, now=now
    )
