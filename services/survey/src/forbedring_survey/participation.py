"""Participation: how many of each unit's invitations are answered, live, and
participation-changed events in batches.

Counts are public (every unit's rate is published while the survey runs), so the API
reads them straight from the invitations and is current at once. Events are batched: the
scheduler sends a unit's counts at most once per `participation_interval_s` (default a
minute), only when they changed, with `as_of` cut to the minute. Sending one per answer
would put each answer's instant on the bus at unit level (`docs/anonymity.md`,
"Participation counts").
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import ParticipationChanged
from forbedring_survey import repository
from forbedring_survey.models import UnitCount


@dataclass(frozen=True)
class UnitParticipation:
    unit_id: str
    parent_id: str | None
    name: str
    level: str
    respondents: int
    eligible: int
    respondents_including_subunits: int
    eligible_including_subunits: int

    @property
    def rate(self) -> float | None:
        return _rate(self.respondents, self.eligible)

    @property
    def rate_including_subunits(self) -> float | None:
        return _rate(self.respondents_including_subunits, self.eligible_including_subunits)


def _rate(respondents: int, eligible: int) -> float | None:
    return None if eligible == 0 else round(100 * respondents / eligible, 1)


async def unit_counts(session: AsyncSession, *, period_id: str) -> list[UnitParticipation]:
    """Every unit of the period's tree in preorder, with its own counts and the totals
    of its subtree."""
    units = await repository.units_of(session, period_id=period_id)
    counts = await repository.participation_counts(session, period_id=period_id)
    direct = {c.unit_id: c for c in counts}
    respondents = {
        u.unit_id: direct[u.unit_id].respondents if u.unit_id in direct else 0 for u in units
    }
    eligible = {u.unit_id: direct[u.unit_id].eligible if u.unit_id in direct else 0 for u in units}
    total_r, total_e = dict(respondents), dict(eligible)
    for unit in reversed(units):  # preorder reversed: children before parents
        if unit.parent_id is not None:
            total_r[unit.parent_id] += total_r[unit.unit_id]
            total_e[unit.parent_id] += total_e[unit.unit_id]
    return [
        UnitParticipation(
            unit_id=u.unit_id,
            parent_id=u.parent_id,
            name=u.name,
            level=u.level,
            respondents=respondents[u.unit_id],
            eligible=eligible[u.unit_id],
            respondents_including_subunits=total_r[u.unit_id],
            eligible_including_subunits=total_e[u.unit_id],
        )
        for u in units
    ]


async def send_changes(
    session: AsyncSession,
    *,
    period_id: str,
    now: datetime,
    min_interval: timedelta,
) -> int:
    """Stage participation-changed for each unit whose count changed since it was last
    sent, if that was at least `min_interval` ago. Returns how many were staged."""
    sent = await repository.participation_sent(session, period_id=period_id)
    due: list[UnitCount] = []
    for count in await repository.participation_counts(session, period_id=period_id):
        last = sent.get(count.unit_id)
        if last is None and count.respondents == 0:
            continue
        if last is not None and (last[0] == count.respondents or now - last[1] < min_interval):
            continue
        due.append(count)
    for count in sorted(due, key=lambda c: c.unit_id):
        stage_event(
            session,
            ParticipationChanged(
                period_id=period_id,
                unit_id=count.unit_id,
                respondents=count.respondents,
                eligible=count.eligible,
                as_of=now,
            ),
        )
    await repository.record_participation_sent(session, period_id=period_id, counts=due, at=now)
    return len(due)
