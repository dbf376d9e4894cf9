"""SQL of the reminder ledger and of what is due: one statement finds every open plan and
measure whose most urgent threshold reached is not in the ledger yet
(`domain/deadlines.py`), claims it in the ledger and returns what its reminder needs."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

# One statement per pass: every open plan and measure with the most urgent threshold it
# has reached (domain/deadlines.py `due`; :horizon is today + 30 days) that is not in the
# ledger yet, claimed with the thresholds that pass with it (the arrays :due, :passed:
# `passed_with`), in subject order, so that two replicas lock keys in the same order. A
# subject comes back only if this transaction inserted its reminder's (sent) row; a
# concurrent replica's insert of the same key waits for it and then inserts nothing.
_CLAIM_DUE = text(
    """
    WITH due AS (
        SELECT 'measure' AS subject, m.measure_id AS subject_id, m.deadline,
               CASE WHEN m.deadline < :today THEN 0
                    WHEN m.deadline - :today <= 1 THEN 1
                    WHEN m.deadline - :today <= 7 THEN 7
                    WHEN m.deadline - :today <= 14 THEN 14
                    ELSE 30 END AS threshold,
               p.plan_id, p.period_id, p.unit_id, m.title, m.responsible_person_id
          FROM actionplan_measures m JOIN actionplan_plans p ON p.plan_id = m.plan_id
         WHERE m.deadline IS NOT NULL AND m.deadline <= :horizon
           AND m.status IN ('planned', 'in_progress') AND m.escalated_to_measure_id IS NULL
        UNION ALL
        SELECT 'plan', p.plan_id, p.deadline,
               CASE WHEN p.deadline < :today THEN 0
                    WHEN p.deadline - :today <= 1 THEN 1
                    WHEN p.deadline - :today <= 7 THEN 7
                    WHEN p.deadline - :today <= 14 THEN 14
                    ELSE 30 END,
               p.plan_id, p.period_id, p.unit_id, NULL, NULL
          FROM actionplan_plans p
         WHERE p.version = 0 AND p.deadline <= :horizon
    ), fresh AS (
        SELECT d.* FROM due d
         WHERE NOT EXISTS (
               SELECT 1 FROM actionplan_reminders r
                WHERE r.subject_id = d.subject_id AND r.deadline = d.deadline
                  AND r.threshold = d.threshold)
    ), claimed AS (
        INSERT INTO actionplan_reminders (subject_id, subject, deadline, threshold, sent, at)
        SELECT f.subject_id, f.subject, f.deadline, t.passed, t.passed = f.threshold, :at
          FROM fresh f
          JOIN unnest(CAST(:due AS integer[]), CAST(:passed AS integer[])) AS t(due, passed)
            ON t.due = f.threshold
         ORDER BY f.subject_id, t.passed
        ON CONFLICT DO NOTHING
        RETURNING subject_id, deadline, threshold
    )
    SELECT f.subject, f.subject_id, f.deadline, f.threshold, f.plan_id, f.period_id,
           f.unit_id, f.title, f.responsible_person_id
      FROM fresh f JOIN claimed c
        ON c.subject_id = f.subject_id AND c.deadline = f.deadline
       AND c.threshold = f.threshold
     ORDER BY f.subject, f.subject_id
    """
)


@dataclass(frozen=True, slots=True)
class Due:
    """A plan or measure whose reminder this pass claimed, with what the event needs."""

    subject: str
    subject_id: str
    deadline: date
    threshold: int
    plan_id: str
    period_id: str
    unit_id: str
    title: str | None
    responsible_person_id: str | None


async def claim_due(
    session: AsyncSession,
    *,
    today: date,
    horizon: date,
    passed: Mapping[int, Sequence[int]],
    now: datetime,
) -> list[Due]:
    """Claim every reminder due (`passed`: the thresholds that pass with each one); the
    measures first, then the plans, each by id."""
    pairs = [(due, p) for due, with_it in passed.items() for p in with_it]
    rows = await session.exec(  # type: ignore[call-overload]
        _CLAIM_DUE.bindparams(
            today=today,
            horizon=horizon,
            due=[d for d, _ in pairs],
            passed=[p for _, p in pairs],
            at=now,
        )
    )
    return [Due(*row) for row in rows.all()]


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
