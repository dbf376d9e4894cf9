"""The audit log: every administrative action, with who did it, in the owning service's
own database (table `audit_log`, made by `create_audit_table` in a migration) and as a
structured log line `audit.<action>`.

    await audit.record(session, actor=principal.subject, action="period.created",
                       subject=period.id, details={"name": period.name})

The row is written in the caller's transaction, so an action and its record commit or
roll back together. Refusals are recorded too (`outcome="refused"`) when the caller
catches the refusal and its transaction commits. Details name what was done, never
anything about a response.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal
from uuid import uuid4

import sqlalchemy as sa
from alembic import op
from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from forbedring_chassis.logging import get_logger
from forbedring_chassis.web.moments import local_time
from forbedring_chassis.web.pages import render

log = get_logger(__name__)

Outcome = Literal["done", "refused"]
TABLE: Final = "audit_log"

_metadata = sa.MetaData()
_audit_log = sa.Table(
    TABLE,
    _metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(255), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("details", JSONB, nullable=False),
)


def create_audit_table() -> None:
    """For a service's migration: the audit log, the same shape in every service."""
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("details", JSONB, nullable=False),
        sa.CheckConstraint("outcome IN ('done', 'refused')", name="audit_outcome"),
    )
    op.create_index("audit_log_by_time", TABLE, [sa.text("at DESC")])


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    subject: str | None
    outcome: Outcome
    details: Mapping[str, Any]


async def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None = None,
    outcome: Outcome = "done",
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record one action in the caller's transaction and say it in the log."""
    values = dict(details or {})
    connection = await session.connection()
    await connection.execute(
        sa.insert(_audit_log).values(
            id=str(uuid4()),
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            outcome=outcome,
            details=values,
        )
    )
    log.info(f"audit.{action}", actor=actor, subject=subject, outcome=outcome, **values)


async def recent(session: AsyncSession, *, limit: int = 200) -> list[AuditEntry]:
    """The newest entries first."""
    statement = sa.select(_audit_log).order_by(_audit_log.c.at.desc(), _audit_log.c.id).limit(limit)
    connection = await session.connection()
    rows = (await connection.execute(statement)).mappings()
    return [
        AuditEntry(
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            subject=row["subject"],
            outcome=row["outcome"],
            details=row["details"],
        )
        for row in rows
    ]


async def log_page(request: Request, session: AsyncSession) -> HTMLResponse:
    """The HR console's audit log page of a service (`chassis/audit.html`), to the second:
    entries a minute apart are told apart."""
    return render(
        request,
        "chassis/audit.html",
        {
            "entries": await recent(session),
            "local": lambda at: local_time(at, seconds=True),
        },
    )
