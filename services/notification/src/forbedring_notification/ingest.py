"""Use cases fed by the survey's events: keep the period's copy (facts, directory,
participation) and write the emails those facts call for.

Each runs in the consumer's transaction under the period's row lock (taken by the
consumer for the whole batch, in period order), so two replicas never fan out the same
period at once; the ledger's unique key makes a second fan-out write nothing anyway."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_contracts.events import (
    DirectoryUpdated,
    Membership,
    ParticipationChanged,
    PeriodClosed,
    PeriodOpened,
    RoleAssignment,
)
from forbedring_notification import announcements, ledger, repository
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.domain.participation import Tree
from forbedring_notification.ledger import Letter, iso
from forbedring_notification.models import Period


async def directory_updated(
    session: AsyncSession, *, event: DirectoryUpdated, now: datetime
) -> None:
    """The whole directory of the period replaces the previous one. People invited later
    in the period get the opening email then (their key is new); nobody gets it twice."""
    period = await repository.lock_period(session, period_id=event.period_id)
    await repository.upsert_units(
        session,
        period_id=event.period_id,
        units=[
            u.model_dump(include={"unit_id", "parent_id", "name", "level"}) for u in event.units
        ],
        eligible=False,
    )
    people: dict[str, dict[str, str]] = {}
    everyone: list[RoleAssignment | Membership] = [*event.roles, *event.members]
    for person in everyone:
        people[person.person_id] = {
            "person_id": person.person_id,
            "name": person.name,
            "email": str(person.email),
            "language": person.language,
        }
    await repository.replace_people(
        session,
        period_id=event.period_id,
        people=list(people.values()),
        roles=[
            {"unit_id": r.unit_id, "person_id": r.person_id, "role": r.role} for r in event.roles
        ],
        members=[{"unit_id": m.unit_id, "person_id": m.person_id} for m in event.members],
    )
    period.has_directory = True
    session.add(period)
    # Whatever this period's facts called for so far reaches the people named now.
    await _announce_opening(session, period, now=now)
    if period.closed_at is not None:
        await _announce_closing(session, period, now=now)
    for stage in period.released:
        await announcements.announce_release(
            session, period, stage=stage["stage"], audience=stage["audience"], now=now
        )


async def period_opened(session: AsyncSession, *, event: PeriodOpened, now: datetime) -> None:
    period = await repository.lock_period(session, period_id=event.period_id)
    period.name = event.name
    period.opens_at = event.opens_at
    period.closes_at = event.closes_at
    period.k = event.k
    period.plan_deadline = event.plan_deadline
    session.add(period)
    await repository.upsert_units(
        session,
        period_id=event.period_id,
        units=[
            u.model_dump(include={"unit_id", "parent_id", "name", "level", "eligible"})
            for u in event.units
        ],
        eligible=True,
    )
    await _announce_opening(session, period, now=now)


async def participation_changed(session: AsyncSession, *, event: ParticipationChanged) -> None:
    await repository.lock_period(session, period_id=event.period_id)
    await repository.set_participation(
        session,
        period_id=event.period_id,
        unit_id=event.unit_id,
        respondents=event.respondents,
        eligible=event.eligible,
    )


async def period_closed(session: AsyncSession, *, event: PeriodClosed, now: datetime) -> None:
    """The final participation, to every unit leader (the totals of period-closed are the
    responses the survey released: final)."""
    period = await repository.lock_period(session, period_id=event.period_id)
    if period.closed_at is None:
        period.closed_at = event.closed_at
        session.add(period)
    await repository.set_final_totals(session, period_id=event.period_id, totals=event.totals)
    await _announce_closing(session, period, now=now)


async def _announce_closing(session: AsyncSession, period: Period, *, now: datetime) -> None:
    if not period.has_directory:
        return
    directory = await repository.directory(session, period_id=period.period_id)
    tree = Tree(await repository.unit_counts(session, period_id=period.period_id), k=period.k or 5)
    letters = [
        Letter(
            kind=Kind.PERIOD_CLOSED,
            fact=f"closed:{period.period_id}",
            person_id=person_id,
            unit_id=units[0],
            reason="period-closed: the final participation of the units you lead",
            context={
                **_period_context(period),
                "units": [ledger.digest_context(tree.digest(u)) for u in units if u in tree.units],
            },
        )
        for person_id, units in directory.leaders().items()
    ]
    await ledger.write(
        session, letters, people=directory.people, period_id=period.period_id, now=now
    )


def _period_context(period: Period) -> dict[str, object]:
    return {
        "period_id": period.period_id,
        "period_name": period.name or period.period_id,
        "opens_at": iso(period.opens_at),
        "closes_at": iso(period.closes_at),
        "plan_deadline": iso(period.plan_deadline),
        "k": period.k or 5,
    }


async def _announce_opening(session: AsyncSession, period: Period, *, now: datetime) -> None:
    """The opening emails, once both the period's facts and its directory are here, while
    the period is open."""
    if not period.has_directory or period.opens_at is None or period.closes_at is None:
        return
    if period.closed_at is not None or now >= period.closes_at:
        return
    directory = await repository.directory(session, period_id=period.period_id)
    fact = f"opened:{period.period_id}"
    context = _period_context(period)
    letters = [
        Letter(
            kind=Kind.PERIOD_OPENED_LEADER,
            fact=fact,
            person_id=person_id,
            unit_id=units[0],
            reason="period-opened: you lead units whose staff are invited",
            context={**context, "units": [directory.unit_name(u) for u in units]},
        )
        for person_id, units in directory.leaders().items()
    ] + [
        Letter(
            kind=Kind.PERIOD_OPENED_EMPLOYEE,
            fact=fact,
            person_id=person_id,
            unit_id=units[0],
            reason="period-opened: you are invited to answer",
            context={**context, "units": [directory.unit_name(u) for u in units]},
        )
        for person_id, units in directory.member_units().items()
    ]
    await ledger.write(
        session, letters, people=directory.people, period_id=period.period_id, now=now
    )
