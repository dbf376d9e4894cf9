"""SQL of the reminder ledger and of what is due: one query per kind of subject finds
every open plan or measure whose most urgent threshold reached is not in the ledger yet
(`domain/deadlines.py`), with what its reminder needs."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

# The most urgent threshold reached (domain/deadlines.py `due`), computed in SQL so that one
# query finds every subject due; :horizon is today + 30 days.
_DUE_MEASURES = text(
    """
    SELECT d.* FROM (
        SELECT m.measure_id, m.title, m.deadline, m.responsible_person_id,
               p.plan_id, p.period_id, p.unit_id,
               CASE WHEN m.deadline < :today THEN 0
                    WHEN m.deadline - :today <= 1 THEN 1
                    WHEN m.deadline - :today <= 7 THEN 7
                    WHEN m.deadline - :today <= 14 THEN 14
                    ELSE 30 END AS threshold
          FROM actionplan_measures m JOIN actionplan_plans p ON p.plan_id = m.plan_id
         WHERE m.deadline IS NOT NULL AND m.deadline <= :horizon
           AND m.status IN ('planned', 'in_progress') AND m.escalated_to_measure_id IS NULL
    ) d
     WHERE NOT EXISTS (
           SELECT 1 FROM actionplan_reminders r
            WHERE r.subject_id = d.measure_id AND r.deadline = d.deadline
              AND r.threshold = d.threshold)
     ORDER BY d.measure_id
    """
)

_DUE_PLANS = text(
    """
    SELECT d.* FROM (
        SELECT p.plan_id, p.period_id, p.unit_id, p.deadline,
               CASE WHEN p.deadline < :today THEN 0
                    WHEN p.deadline - :today <= 1 THEN 1
                    WHEN p.deadline - :today <= 7 THEN 7
                    WHEN p.deadline - :today <= 14 THEN 14
                    ELSE 30 END AS threshold
          FROM actionplan_plans p
         WHERE p.version = 0 AND p.deadline <= :horizon
    ) d
     WHERE NOT EXISTS (
           SELECT 1 FROM actionplan_reminders r
            WHERE r.subject_id = d.plan_id AND r.deadline = d.deadline
              AND r.threshold = d.threshold)
     ORDER BY d.plan_id
    """
)


@dataclass(frozen=True)
class DueMeasure:
    measure_id: str
    title: str
    deadline: date
    responsible_person_id: str | None
    plan_id: str
    period_id: str
    unit_id: str
    threshold: int


@dataclass(frozen=True)
class DuePlan:
    plan_id: str
    period_id: str
    unit_id: str
    deadline: date
    threshold: int


async def due_measures(session: AsyncSession, *, today: date, horizon: date) -> list[DueMeasure]:
    rows = await session.exec(_DUE_MEASURES.bindparams(today=today, horizon=horizon))  # type: ignore[call-overload]
    return [DueMeasure(*row) for row in rows.all()]


async def due_plans(session: AsyncSession, *, today: date, horizon: date) -> list[DuePlan]:
    rows = await session.exec(_DUE_PLANS.bindparams(today=today, horizon=horizon))  # type: ignore[call-overload]
    return [DuePlan(*row) for row in rows.all()]


@dataclass(frozen=True)
class LedgerRow:
    subject_id: str
    subject: str
    deadline: date
    threshold: int
    sent: bool


_CLAIM = text(
    """
    INSERT INTO actionplan_reminders (subject_id, subject, deadline, threshold, sent, at)
    SELECT r.subject_id, r.subject, r.deadline, r.threshold, r.sent, :at
      FROM unnest(CAST(:subject_ids AS varchar[]), CAST(:subjects AS varchar[]),
                  CAST(:deadlines AS date[]), CAST(:thresholds AS integer[]),
                  CAST(:sent AS boolean[]))
           WITH ORDINALITY AS r(subject_id, subject, deadline, threshold, sent, n)
     ORDER BY r.n
    ON CONFLICT DO NOTHING
    RETURNING subject_id, threshold, sent
    """
)


async def claim(
    session: AsyncSession, *, rows: Sequence[LedgerRow], now: datetime
) -> set[tuple[str, int]]:
    """Insert the rows that are not in the ledger yet; the (subject, threshold) pairs of
    the `sent` ones this transaction inserted (a concurrent replica's insert of the same
    key waits for it and then inserts nothing). One statement whatever the number of rows
    (arrays, not one parameter per value), in the order given."""
    if not rows:
        return set()
    inserted = await session.exec(  # type: ignore[call-overload]
        _CLAIM.bindparams(
            subject_ids=[r.subject_id for r in rows],
            subjects=[r.subject for r in rows],
            deadlines=[r.deadline for r in rows],
            thresholds=[r.threshold for r in rows],
            sent=[r.sent for r in rows],
            at=now,
        )
    )
    return {(s, t) for s, t, sent in inserted.all() if sent}


async def leaders_of(
    session: AsyncSession, *, period_ids: Sequence[str], unit_ids: Sequence[str]
) -> dict[tuple[str, str], list[str]]:
    """Per (period, unit), its leaders' person ids, sorted."""
    if not unit_ids:
        return {}
    rows = await session.exec(  # type: ignore[call-overload]
        text(
            "SELECT period_id, unit_id, person_id FROM actionplan_people "
            "WHERE role = 'leader' AND period_id = ANY(:periods) AND unit_id = ANY(:units) "
            "ORDER BY person_id"
        ).bindparams(periods=sorted(set(period_ids)), units=sorted(set(unit_ids)))
    )
    found: dict[tuple[str, str], list[str]] = {}
    for period_id, unit_id, person_id in rows.all():
        found.setdefault((period_id, unit_id), []).append(person_id)
    return found


async def parents_of(
    session: AsyncSession, *, period_ids: Sequence[str], unit_ids: Sequence[str]
) -> dict[tuple[str, str], str | None]:
    if not unit_ids:
        return {}
    rows = await session.exec(  # type: ignore[call-overload]
        text(
            "SELECT period_id, unit_id, parent_id FROM actionplan_units "
            "WHERE period_id = ANY(:periods) AND unit_id = ANY(:units)"
        ).bindparams(periods=sorted(set(period_ids)), units=sorted(set(unit_ids)))
    )
    return {(p, u): parent for p, u, parent in rows.all()}
