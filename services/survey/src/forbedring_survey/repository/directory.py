"""The imported directory: units, people, roles and one invitation per assignment."""

from uuid import uuid4

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_survey.domain.org_import import Organisation
from forbedring_survey.models import StoredMember, StoredRole, StoredUnit
from forbedring_survey.repository.sql import connection


async def store_organisation(
    session: AsyncSession, *, period_id: str, organisation: Organisation
) -> int:
    """Store the imported directory and one invitation per assignment above 0 %.
    Returns the number of invitations."""
    conn = await connection(session)
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
    conn = await connection(session)
    for table in ("invitations", "roles", "people", "units"):
        statement = text(f"DELETE FROM {table} WHERE period_id = :p")  # noqa: S608
        await conn.execute(statement, {"p": period_id})


async def units_of(session: AsyncSession, *, period_id: str) -> list[StoredUnit]:
    """The period's unit tree in preorder (the root first)."""
    rows = await (await connection(session)).execute(
        text(
            "SELECT unit_id, parent_id, name, kind, level, eligible FROM units "
            "WHERE period_id = :p ORDER BY position"
        ),
        {"p": period_id},
    )
    return [StoredUnit(*row) for row in rows]


async def roles_of(session: AsyncSession, *, period_id: str) -> list[StoredRole]:
    rows = await (await connection(session)).execute(
        text(
            "SELECT r.employee_id, r.unit_id, r.role, p.name, p.email, p.language "
            "FROM roles r JOIN people p ON p.period_id = r.period_id "
            "AND p.employee_id = r.employee_id WHERE r.period_id = :p "
            "ORDER BY r.unit_id, r.role, r.employee_id"
        ),
        {"p": period_id},
    )
    return [StoredRole(*row) for row in rows]


async def members_of(session: AsyncSession, *, period_id: str) -> list[StoredMember]:
    """Who is invited for which unit, with their address. Deliberately without `answered`:
    this feeds directory-updated, and who has answered never leaves the survey."""
    rows = await (await connection(session)).execute(
        text(
            "SELECT i.employee_id, i.unit_id, p.name, p.email, p.language "
            "FROM invitations i JOIN people p ON p.period_id = i.period_id "
            "AND p.employee_id = i.employee_id WHERE i.period_id = :p "
            "ORDER BY i.unit_id, i.employee_id"
        ),
        {"p": period_id},
    )
    return [StoredMember(*row) for row in rows]


async def count_directory(session: AsyncSession, *, period_id: str) -> dict[str, int]:
    """Rows stored for the period, per table (tests assert an import left nothing)."""
    counts: dict[str, int] = {}
    for table in ("units", "people", "roles", "invitations"):
        row = (
            await (await connection(session)).execute(
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
    conn = await connection(session)
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
        await (await connection(session)).execute(
            text(
                "SELECT 1 FROM roles r JOIN periods p ON p.id = r.period_id "
                "WHERE r.employee_id = :e AND r.role = :role AND p.organisation_id = :org "
                "LIMIT 1"
            ),
            {"e": employee_id, "role": role, "org": organisation_id},
        )
    ).first()
    return row is not None
