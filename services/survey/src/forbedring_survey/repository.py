"""All of the survey's SQL. Functions take the caller's session and never commit.

Anonymity rules this file keeps (see `release.py` for the reasoning):
- nothing is ever ordered by insertion (no serial ids; random UUIDs; `ORDER BY` only on
  unit ids or random());
- a response or background row is never written in the same statement as, nor joined
  to, an invitation.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_survey.domain.org_import import Organisation
from forbedring_survey.models import (
    HeldResponse,
    Invitation,
    Period,
    StoredRole,
    StoredUnit,
    UnitCount,
)


async def _conn(session: AsyncSession) -> AsyncConnection:
    return await session.connection()


# --- periods -------------------------------------------------------------------------------

_PERIOD_COLUMNS = (
    "id, organisation_id, name, opens_at, closes_at, stage_1_delay_s, stage_2_delay_s, "
    "plan_deadline, k, sensitive_k, questionnaire_version, questionnaire_checksum, status, "
    "organisation_imported, opened_at, closed_at"
)


def _period(row: Row[Any]) -> Period:
    m = row._mapping
    return Period(
        id=m["id"],
        organisation_id=m["organisation_id"],
        name=m["name"],
        opens_at=m["opens_at"],
        closes_at=m["closes_at"],
        stage_1_delay=timedelta(seconds=m["stage_1_delay_s"]),
        stage_2_delay=timedelta(seconds=m["stage_2_delay_s"]),
        plan_deadline=m["plan_deadline"],
        k=m["k"],
        sensitive_k=m["sensitive_k"],
        questionnaire_version=m["questionnaire_version"],
        questionnaire_checksum=m["questionnaire_checksum"],
        status=m["status"],
        organisation_imported=m["organisation_imported"],
        opened_at=m["opened_at"],
        closed_at=m["closed_at"],
    )


async def insert_period(session: AsyncSession, *, period: Period) -> None:
    await (await _conn(session)).execute(
        text(
            f"INSERT INTO periods ({_PERIOD_COLUMNS}) VALUES (:id, :organisation_id, :name, "  # noqa: S608
            ":opens_at, :closes_at, :stage_1_delay_s, :stage_2_delay_s, :plan_deadline, :k, "
            ":sensitive_k, :questionnaire_version, :questionnaire_checksum, :status, "
            ":organisation_imported, :opened_at, :closed_at)"
        ),
        {
            "id": period.id,
            "organisation_id": period.organisation_id,
            "name": period.name,
            "opens_at": period.opens_at,
            "closes_at": period.closes_at,
            "stage_1_delay_s": int(period.stage_1_delay.total_seconds()),
            "stage_2_delay_s": int(period.stage_2_delay.total_seconds()),
            "plan_deadline": period.plan_deadline,
            "k": period.k,
            "sensitive_k": period.sensitive_k,
            "questionnaire_version": period.questionnaire_version,
            "questionnaire_checksum": period.questionnaire_checksum,
            "status": period.status,
            "organisation_imported": period.organisation_imported,
            "opened_at": period.opened_at,
            "closed_at": period.closed_at,
        },
    )


async def get_period(
    session: AsyncSession,
    *,
    period_id: str,
    lock: Literal["share", "update"] | None = None,
) -> Period | None:
    """The period; `lock="share"` while answering (blocks closing meanwhile),
    `lock="update"` to open, close or import."""
    suffix = {None: "", "share": " FOR SHARE", "update": " FOR UPDATE"}[lock]
    row = (
        await (await _conn(session)).execute(
            text(f"SELECT {_PERIOD_COLUMNS} FROM periods WHERE id = :id{suffix}"),  # noqa: S608
            {"id": period_id},
        )
    ).first()
    return None if row is None else _period(row)


async def list_periods(session: AsyncSession) -> list[Period]:
    rows = await (await _conn(session)).execute(
        text(f"SELECT {_PERIOD_COLUMNS} FROM periods ORDER BY opens_at DESC, id")  # noqa: S608
    )
    return [_period(row) for row in rows]


async def open_period_ids(session: AsyncSession) -> list[str]:
    rows = await (await _conn(session)).execute(
        text("SELECT id FROM periods WHERE status = 'open' ORDER BY id")
    )
    return [row[0] for row in rows]


async def open_period_of(
    session: AsyncSession, *, organisation_id: str, excluding: str
) -> str | None:
    row = (
        await (await _conn(session)).execute(
            text(
                "SELECT id FROM periods WHERE organisation_id = :org AND status = 'open' "
                "AND id <> :excluding"
            ),
            {"org": organisation_id, "excluding": excluding},
        )
    ).first()
    return None if row is None else str(row[0])


async def lock_due_periods(
    session: AsyncSession, *, status: Literal["scheduled", "open"], now: datetime
) -> list[Period]:
    """Periods due to open (`scheduled`, opens_at passed) or to close (`open`, closes_at
    passed), locked; rows another replica holds are skipped, so each is handled once."""
    column = "opens_at" if status == "scheduled" else "closes_at"
    rows = await (await _conn(session)).execute(
        text(
            f"SELECT {_PERIOD_COLUMNS} FROM periods WHERE status = :status "  # noqa: S608
            f"AND {column} <= :now ORDER BY {column}, id FOR UPDATE SKIP LOCKED"
        ),
        {"status": status, "now": now},
    )
    return [_period(row) for row in rows]


async def set_period_open(session: AsyncSession, *, period_id: str, at: datetime) -> None:
    await (await _conn(session)).execute(
        text("UPDATE periods SET status = 'open', opened_at = :at WHERE id = :id"),
        {"id": period_id, "at": at},
    )


async def set_period_closed(session: AsyncSession, *, period_id: str, at: datetime) -> None:
    await (await _conn(session)).execute(
        text("UPDATE periods SET status = 'closed', closed_at = :at WHERE id = :id"),
        {"id": period_id, "at": at},
    )


async def lock_release(session: AsyncSession, *, period_id: str, wait: bool) -> bool:
    """The period's release lock for this transaction: one releaser at a time, across
    replicas. Without `wait`, False when another transaction holds it."""
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    row = (
        await (await _conn(session)).execute(
            text(f"SELECT {function}(hashtext('survey.release:' || :id))::text"),
            {"id": period_id},
        )
    ).one()
    return bool(row[0] != "false")


# --- the directory -------------------------------------------------------------------------


async def store_organisation(
    session: AsyncSession, *, period_id: str, organisation: Organisation
) -> int:
    """Store the imported directory and one invitation per assignment above 0 %.
    Returns the number of invitations."""
    conn = await _conn(session)
    eligible = organisation.eligible_counts()
    await conn.execute(
        text(
            "INSERT INTO units (period_id, unit_id, parent_id, name, kind, level, eligible, "
            "position) VALUES (:p, :unit_id, :parent_id, :name, :kind, :level, :eligible, "
            ":position)"
        ),
        [
            {
                "p": period_id,
                "unit_id": u.unit_id,
                "parent_id": u.parent_id,
                "name": u.name,
                "kind": u.kind,
                "level": u.level,
                "eligible": eligible[u.unit_id],
                "position": index,
            }
            for index, u in enumerate(organisation.preorder())
        ],
    )
    if organisation.people:
        await conn.execute(
            text(
                "INSERT INTO people (period_id, employee_id, name, email, language) "
                "SELECT CAST(:p AS text), * FROM unnest(CAST(:ids AS text[]), "
                "CAST(:names AS text[]), CAST(:emails AS text[]), CAST(:languages AS text[]))"
            ),
            {
                "p": period_id,
                "ids": [p.employee_id for p in organisation.people],
                "names": [p.name for p in organisation.people],
                "emails": [p.email for p in organisation.people],
                "languages": [p.language for p in organisation.people],
            },
        )
    if organisation.roles:
        await conn.execute(
            text(
                "INSERT INTO roles (period_id, employee_id, unit_id, role) "
                "SELECT CAST(:p AS text), * FROM unnest(CAST(:ids AS text[]), "
                "CAST(:units AS text[]), CAST(:roles AS text[]))"
            ),
            {
                "p": period_id,
                "ids": [r.employee_id for r in organisation.roles],
                "units": [r.unit_id for r in organisation.roles],
                "roles": [r.role for r in organisation.roles],
            },
        )
    invitations = organisation.invitations()
    if invitations:
        await conn.execute(
            text(
                "INSERT INTO invitations (id, period_id, employee_id, unit_id, answered) "
                "SELECT i, CAST(:p AS text), e, u, false FROM unnest(CAST(:ids AS uuid[]), "
                "CAST(:employees AS text[]), CAST(:units AS text[])) AS t(i, e, u)"
            ),
            {
                "p": period_id,
                "ids": [uuid4() for _ in invitations],
                "employees": [i.employee_id for i in invitations],
                "units": [i.unit_id for i in invitations],
            },
        )
    await conn.execute(
        text("UPDATE periods SET organisation_imported = true WHERE id = :p"), {"p": period_id}
    )
    return len(invitations)


async def delete_directory(session: AsyncSession, *, period_id: str) -> None:
    """Forget a period's imported directory (a new import replaces it before opening)."""
    conn = await _conn(session)
    for table in ("invitations", "roles", "people", "units"):
        statement = text(f"DELETE FROM {table} WHERE period_id = :p")  # noqa: S608
        await conn.execute(statement, {"p": period_id})


async def units_of(session: AsyncSession, *, period_id: str) -> list[StoredUnit]:
    """The period's unit tree in preorder (the root first)."""
    rows = await (await _conn(session)).execute(
        text(
            "SELECT unit_id, parent_id, name, kind, level, eligible FROM units "
            "WHERE period_id = :p ORDER BY position"
        ),
        {"p": period_id},
    )
    return [StoredUnit(*row) for row in rows]


async def roles_of(session: AsyncSession, *, period_id: str) -> list[StoredRole]:
    rows = await (await _conn(session)).execute(
        text(
            "SELECT r.employee_id, r.unit_id, r.role, p.name, p.email, p.language "
            "FROM roles r JOIN people p ON p.period_id = r.period_id "
            "AND p.employee_id = r.employee_id WHERE r.period_id = :p "
            "ORDER BY r.unit_id, r.role, r.employee_id"
        ),
        {"p": period_id},
    )
    return [StoredRole(*row) for row in rows]


async def count_directory(session: AsyncSession, *, period_id: str) -> dict[str, int]:
    """Rows stored for the period, per table (tests assert an import left nothing)."""
    counts: dict[str, int] = {}
    for table in ("units", "people", "roles", "invitations"):
        row = (
            await (await _conn(session)).execute(
                text(f"SELECT count(*) FROM {table} WHERE period_id = :p"),  # noqa: S608
                {"p": period_id},
            )
        ).one()
        counts[table] = int(row[0])
    return counts


async def directory_entry(
    session: AsyncSession, *, employee_id: str, organisation_id: str
) -> tuple[str, str, str, list[tuple[str, str]]] | None:
    """The person as the current directory has them: the open period's, else the most
    recent imported one. (period id, name, language, [(unit id, role)])."""
    conn = await _conn(session)
    row = (
        await conn.execute(
            text(
                "SELECT p.period_id, p.name, p.language FROM people p "
                "JOIN periods d ON d.id = p.period_id "
                "WHERE p.employee_id = :e AND d.organisation_id = :org "
                "ORDER BY (d.status = 'open') DESC, d.opens_at DESC LIMIT 1"
            ),
            {"e": employee_id, "org": organisation_id},
        )
    ).first()
    if row is None:
        return None
    roles = await conn.execute(
        text(
            "SELECT unit_id, role FROM roles WHERE period_id = :p AND employee_id = :e "
            "ORDER BY unit_id, role"
        ),
        {"p": row[0], "e": employee_id},
    )
    return row[0], row[1], row[2], [(r[0], r[1]) for r in roles]


async def has_role(
    session: AsyncSession, *, employee_id: str, role: str, organisation_id: str
) -> bool:
    """Whether the person holds `role` in any imported directory of the organisation."""
    row = (
        await (await _conn(session)).execute(
            text(
                "SELECT 1 FROM roles r JOIN periods p ON p.id = r.period_id "
                "WHERE r.employee_id = :e AND r.role = :role AND p.organisation_id = :org "
                "LIMIT 1"
            ),
            {"e": employee_id, "role": role, "org": organisation_id},
        )
    ).first()
    return row is not None


# --- invitations and answering -------------------------------------------------------------

_INVITATION_SELECT = (
    "SELECT i.id, i.period_id, i.unit_id, u.name, i.answered, p.questionnaire_version, "
    "p.name, p.status, p.closes_at FROM invitations i "
    "JOIN periods p ON p.id = i.period_id "
    "JOIN units u ON u.period_id = i.period_id AND u.unit_id = i.unit_id "
)


async def invitations_of(session: AsyncSession, *, employee_id: str) -> list[Invitation]:
    rows = await (await _conn(session)).execute(
        text(_INVITATION_SELECT + "WHERE i.employee_id = :e ORDER BY p.opens_at DESC, u.position"),
        {"e": employee_id},
    )
    return [Invitation(*row) for row in rows]


async def find_invitation(
    session: AsyncSession, *, invitation_id: UUID, employee_id: str
) -> Invitation | None:
    row = (
        await (await _conn(session)).execute(
            text(_INVITATION_SELECT + "WHERE i.id = :id AND i.employee_id = :e"),
            {"id": invitation_id, "e": employee_id},
        )
    ).first()
    return None if row is None else Invitation(*row)


async def mark_answered(session: AsyncSession, *, invitation_id: UUID, employee_id: str) -> bool:
    """Mark the invitation answered if it was not. Under concurrent submissions exactly
    one caller gets True: the others wait for its row lock, re-check `answered` and
    find it set."""
    row = (
        await (await _conn(session)).execute(
            text(
                "UPDATE invitations SET answered = true WHERE id = :id AND employee_id = :e "
                "AND answered = false RETURNING true"
            ),
            {"id": invitation_id, "e": employee_id},
        )
    ).first()
    return row is not None


async def hold_response(
    session: AsyncSession,
    *,
    period_id: str,
    unit_id: str,
    questionnaire_version: str,
    answers: dict[str, Any],
) -> None:
    await (await _conn(session)).execute(
        text(
            "INSERT INTO pending_responses (id, period_id, unit_id, questionnaire_version, "
            "answers) VALUES (:id, :p, :u, :v, CAST(:a AS jsonb))"
        ),
        {"id": uuid4(), "p": period_id, "u": unit_id, "v": questionnaire_version, "a": _j(answers)},
    )


async def hold_background(
    session: AsyncSession, *, period_id: str, unit_id: str, answers: dict[str, Any]
) -> None:
    await (await _conn(session)).execute(
        text(
            "INSERT INTO pending_background (id, period_id, unit_id, answers) "
            "VALUES (:id, :p, :u, CAST(:a AS jsonb))"
        ),
        {"id": uuid4(), "p": period_id, "u": unit_id, "a": _j(answers)},
    )


def _j(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# --- release -------------------------------------------------------------------------------


async def units_with_pending(session: AsyncSession, *, period_id: str, at_least: int) -> list[str]:
    rows = await (await _conn(session)).execute(
        text(
            "SELECT unit_id FROM pending_responses WHERE period_id = :p GROUP BY unit_id "
            "HAVING count(*) >= :n ORDER BY unit_id"
        ),
        {"p": period_id, "n": at_least},
    )
    return [row[0] for row in rows]


async def take_pending_responses(
    session: AsyncSession, *, period_id: str, unit_id: str
) -> list[HeldResponse]:
    rows = await (await _conn(session)).execute(
        text(
            "DELETE FROM pending_responses WHERE period_id = :p AND unit_id = :u "
            "RETURNING id, unit_id, questionnaire_version, answers"
        ),
        {"p": period_id, "u": unit_id},
    )
    return [HeldResponse(*row) for row in rows]


async def take_pending_background(
    session: AsyncSession, *, period_id: str, unit_id: str
) -> list[dict[str, Any]]:
    rows = await (await _conn(session)).execute(
        text(
            "DELETE FROM pending_background WHERE period_id = :p AND unit_id = :u RETURNING answers"
        ),
        {"p": period_id, "u": unit_id},
    )
    return [row[0] for row in rows]


async def store_released(
    session: AsyncSession,
    *,
    period_id: str,
    responses: Sequence[HeldResponse],
    released_on: date,
) -> None:
    """Insert in the order given (the caller shuffles)."""
    if not responses:
        return
    await (await _conn(session)).execute(
        text(
            "INSERT INTO responses (id, period_id, unit_id, questionnaire_version, answers, "
            "released_on) SELECT i, CAST(:p AS text), u, v, a::jsonb, CAST(:d AS date) "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:units AS text[]), "
            "CAST(:versions AS text[]), CAST(:answers AS text[])) "
            "WITH ORDINALITY AS t(i, u, v, a, n) ORDER BY n"
        ),
        {
            "p": period_id,
            "d": released_on,
            "ids": [r.id for r in responses],
            "units": [r.unit_id for r in responses],
            "versions": [r.questionnaire_version for r in responses],
            "answers": [_j(r.answers) for r in responses],
        },
    )


async def store_background(
    session: AsyncSession, *, period_id: str, unit_id: str, answers: Iterable[dict[str, Any]]
) -> None:
    """Insert in the order given (the caller shuffles), each under a new random id."""
    values = [_j(a) for a in answers]
    if not values:
        return
    await (await _conn(session)).execute(
        text(
            "INSERT INTO background_answers (id, period_id, unit_id, answers) "
            "SELECT i, CAST(:p AS text), CAST(:u AS text), a::jsonb "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:answers AS text[])) "
            "WITH ORDINALITY AS t(i, a, n) ORDER BY n"
        ),
        {"p": period_id, "u": unit_id, "ids": [uuid4() for _ in values], "answers": values},
    )


async def background_rows(
    session: AsyncSession, *, period_id: str
) -> list[tuple[str, dict[str, str]]]:
    """(unit, background answers) of every released response, in random-id order."""
    rows = await (await _conn(session)).execute(
        text(
            "SELECT unit_id, answers FROM background_answers WHERE period_id = :p "
            "ORDER BY unit_id, id"
        ),
        {"p": period_id},
    )
    return [(row[0], row[1]) for row in rows]


async def rewrite_invitations(session: AsyncSession, *, period_id: str, unit_id: str) -> None:
    """Write every invitation row of the unit again, in random order, so that no
    transaction id (`xmin`) or physical position tells when any of them was answered."""
    await (await _conn(session)).execute(
        text(
            "UPDATE invitations SET answered = invitations.answered FROM ("
            "SELECT id FROM invitations WHERE period_id = :p AND unit_id = :u "
            "ORDER BY random()) AS shuffled WHERE invitations.id = shuffled.id"
        ),
        {"p": period_id, "u": unit_id},
    )


async def released_totals(session: AsyncSession, *, period_id: str) -> dict[str, int]:
    rows = await (await _conn(session)).execute(
        text("SELECT unit_id, count(*) FROM responses WHERE period_id = :p GROUP BY unit_id"),
        {"p": period_id},
    )
    return {row[0]: int(row[1]) for row in rows}


# --- participation -------------------------------------------------------------------------


async def participation(session: AsyncSession, *, period_id: str) -> list[UnitCount]:
    """Per unit, for the unit itself: invitations answered and invitations."""
    rows = await (await _conn(session)).execute(
        text(
            "SELECT unit_id, count(*) FILTER (WHERE answered), count(*) FROM invitations "
            "WHERE period_id = :p GROUP BY unit_id"
        ),
        {"p": period_id},
    )
    return [UnitCount(row[0], int(row[1]), int(row[2])) for row in rows]


async def participation_sent(
    session: AsyncSession, *, period_id: str
) -> dict[str, tuple[int, datetime]]:
    rows = await (await _conn(session)).execute(
        text("SELECT unit_id, respondents, sent_at FROM participation_sent WHERE period_id = :p"),
        {"p": period_id},
    )
    return {row[0]: (int(row[1]), row[2]) for row in rows}


async def record_participation_sent(
    session: AsyncSession, *, period_id: str, counts: Sequence[UnitCount], at: datetime
) -> None:
    if not counts:
        return
    await (await _conn(session)).execute(
        text(
            "INSERT INTO participation_sent (period_id, unit_id, respondents, sent_at) "
            "VALUES (:p, :u, :n, :at) ON CONFLICT (period_id, unit_id) DO UPDATE "
            "SET respondents = EXCLUDED.respondents, sent_at = EXCLUDED.sent_at"
        ),
        [{"p": period_id, "u": c.unit_id, "n": c.respondents, "at": at} for c in counts],
    )
