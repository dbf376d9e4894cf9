"""The HR console's use cases: each administrative action through the same use case as
the API and the CLI (`periods`, `research_export`), recorded in the audit log with who
did it (`forbedring_chassis.audit`). No commit here: the caller's unit of work commits
the action and its record together."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis import audit
from forbedring_survey import periods, research_export
from forbedring_survey.domain.org_import import ImportRefused, Organisation
from forbedring_survey.errors import ImportRefusedError
from forbedring_survey.models import Period

TREE_SAMPLE = 15
"""How many units of the tree the import preview shows (preorder: the top first)."""


@dataclass(frozen=True)
class TreeLine:
    depth: int
    unit_id: str
    name: str
    kind: str
    members: int


@dataclass(frozen=True)
class ImportPreview:
    """What an organisation import holds: counts, and the top of its tree."""

    units: int
    employees: int
    assignments: int
    roles: int
    tree: tuple[TreeLine, ...]
    stored: bool
    invitations: int | None = None


def preview_of(
    organisation: Organisation, *, stored: bool, invitations: int | None
) -> ImportPreview:
    members: dict[str, int] = {}
    for assignment in organisation.assignments:
        members[assignment.unit_id] = members.get(assignment.unit_id, 0) + 1
    tree = tuple(
        TreeLine(
            depth=organisation.depth(unit.unit_id),
            unit_id=unit.unit_id,
            name=unit.name,
            kind=unit.kind,
            members=members.get(unit.unit_id, 0),
        )
        for unit in organisation.preorder()[:TREE_SAMPLE]
    )
    return ImportPreview(
        units=len(organisation.units),
        employees=len(organisation.people),
        assignments=len(organisation.assignments),
        roles=len(organisation.roles),
        tree=tree,
        stored=stored,
        invitations=invitations,
    )


async def create_period(
    session: AsyncSession,
    *,
    actor: str,
    now: datetime,
    organisation_id: str,
    name: str,
    opens_at: datetime,
    closes_at: datetime | None,
    stage_1_delay: timedelta | None,
    stage_2_delay: timedelta | None,
    plan_deadline: date | None,
    k: int,
    sensitive_k: int,
    questionnaire_version: str,
) -> Period:
    period = await periods.create_period(
        session,
        organisation_id=organisation_id,
        name=name,
        opens_at=opens_at,
        closes_at=closes_at,
        stage_1_delay=stage_1_delay,
        stage_2_delay=stage_2_delay,
        plan_deadline=plan_deadline,
        k=k,
        sensitive_k=sensitive_k,
        questionnaire_version=questionnaire_version,
    )
    await audit.record(
        session,
        at=now,
        actor=actor,
        action="period.created",
        subject=period.id,
        details={"name": name, "questionnaire_version": questionnaire_version},
    )
    return period


async def import_organisation(
    session: AsyncSession,
    *,
    actor: str,
    now: datetime,
    period_id: str,
    parse: Callable[[], Organisation],
    check_only: bool = False,
) -> ImportPreview:
    """Import (or, `check_only`, only validate) the organisation, all or nothing as the
    CLI does. A refusal is recorded, then raised with every problem."""
    parsed: list[Organisation] = []

    def keep() -> Organisation:
        organisation = parse()
        parsed.append(organisation)
        return organisation

    try:
        if check_only:
            await periods.get_period(session, period_id=period_id)
            try:
                organisation = keep()
            except ImportRefused as refused:
                raise ImportRefusedError(
                    f"The import was refused: {len(refused.problems)} problem(s).",
                    problems=[p.to_dict() for p in refused.problems],
                ) from refused
            preview = preview_of(organisation, stored=False, invitations=None)
        else:
            invitations = await periods.import_organisation(
                session, period_id=period_id, parse=keep
            )
            preview = preview_of(parsed[0], stored=True, invitations=invitations)
    except ImportRefusedError as refused:
        await audit.record(
            session,
            at=now,
            actor=actor,
            action="organisation.checked" if check_only else "organisation.imported",
            subject=period_id,
            outcome="refused",
            details={"problems": len(refused.problems or [])},
        )
        raise
    await audit.record(
        session,
        at=now,
        actor=actor,
        action="organisation.checked" if check_only else "organisation.imported",
        subject=period_id,
        details={"units": preview.units, "employees": preview.employees},
    )
    return preview


async def open_early(session: AsyncSession, *, actor: str, now: datetime, period_id: str) -> Period:
    period = await periods.open_early(session, period_id=period_id, now=now)
    await audit.record(
        session, at=now, actor=actor, action="period.opened_early", subject=period_id
    )
    return period


async def close_early(
    session: AsyncSession, *, actor: str, now: datetime, period_id: str
) -> dict[str, int]:
    totals = await periods.close_period(session, period_id=period_id, now=now)
    await audit.record(
        session,
        at=now,
        actor=actor,
        action="period.closed",
        subject=period_id,
        details={"responses": sum(totals.values())},
    )
    return totals


async def research_export_of(
    session: AsyncSession, *, actor: str, now: datetime, period_id: str
) -> research_export.ResearchExport:
    export = await research_export.research_export(session, period_id=period_id)
    await audit.record(
        session,
        at=now,
        actor=actor,
        action="research_export.downloaded",
        subject=period_id,
        details={"units_included": export.units_included, "rows": export.rows},
    )
    return export
