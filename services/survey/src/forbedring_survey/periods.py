"""Periods: create, import the organisation, open, close. No commit, no publish here:
the caller's unit of work commits, and events leave through the outbox."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.logging import get_logger
from forbedring_chassis.outbox import stage_event
from forbedring_contracts.events import DirectoryUpdated, PeriodClosed, PeriodOpened
from forbedring_contracts.events.survey import Membership, RoleAssignment, Unit, UnitInScope
from forbedring_survey import participation, release, repository
from forbedring_survey.domain.org_import import ImportRefused, Organisation
from forbedring_survey.domain.questionnaire import (
    UnknownQuestionnaireVersionError,
    checksum,
    load_questionnaire,
    to_contract,
)
from forbedring_survey.errors import (
    Conflict,
    Forbidden,
    ImportRefusedError,
    Invalid,
    NotFound,
    OrganisationFrozen,
)
from forbedring_survey.models import Period

log = get_logger(__name__)

DEFAULT_LENGTH = timedelta(weeks=6)
DEFAULT_STAGE_1_DELAY = timedelta(0)
DEFAULT_STAGE_2_DELAY = timedelta(days=7)


def default_plan_deadline(closes_at: datetime) -> date:
    """The first 30 June after the period closes."""
    deadline = date(closes_at.year, 6, 30)
    return deadline if deadline > closes_at.date() else date(closes_at.year + 1, 6, 30)


async def require_hr_admin(
    session: AsyncSession, *, employee_id: str, organisation_id: str, bootstrap: list[str]
) -> None:
    """HR admins are named by the imported directory (any period of the organisation);
    before the first import, by the `hr_admins` setting."""
    if employee_id in bootstrap:
        return
    if await repository.has_role(
        session, employee_id=employee_id, role="hr_admin", organisation_id=organisation_id
    ):
        return
    raise Forbidden("Only HR administrators may do this.")


async def create_period(
    session: AsyncSession,
    *,
    organisation_id: str,
    name: str,
    opens_at: datetime,
    closes_at: datetime | None = None,
    stage_1_delay: timedelta | None = None,
    stage_2_delay: timedelta | None = None,
    plan_deadline: date | None = None,
    k: int = 5,
    sensitive_k: int = 10,
    questionnaire_version: str,
) -> Period:
    try:
        questionnaire = load_questionnaire(questionnaire_version)
    except UnknownQuestionnaireVersionError as exc:
        raise Invalid(f"There is no questionnaire version {questionnaire_version!r}.") from exc
    if opens_at.tzinfo is None:
        raise Invalid("opens_at needs a time zone.")
    closes = closes_at or opens_at + DEFAULT_LENGTH
    if closes <= opens_at:
        raise Invalid("closes_at must be after opens_at.")
    if k < 1 or sensitive_k < k:
        raise Invalid("k must be at least 1 and sensitive_k at least k.")
    period = Period(
        id=str(uuid4()),
        organisation_id=organisation_id,
        name=name,
        opens_at=opens_at.astimezone(UTC),
        closes_at=closes.astimezone(UTC),
        stage_1_delay=DEFAULT_STAGE_1_DELAY if stage_1_delay is None else stage_1_delay,
        stage_2_delay=DEFAULT_STAGE_2_DELAY if stage_2_delay is None else stage_2_delay,
        plan_deadline=plan_deadline or default_plan_deadline(closes),
        k=k,
        sensitive_k=sensitive_k,
        questionnaire_version=questionnaire_version,
        questionnaire_checksum=checksum(questionnaire),
        status="scheduled",
        organisation_imported=False,
        opened_at=None,
        closed_at=None,
    )
    await repository.insert_period(session, period=period)
    log.info("survey.period.created", period_id=period.id, opens_at=period.opens_at.isoformat())
    return period


async def get_period(session: AsyncSession, *, period_id: str) -> Period:
    period = await repository.get_period(session, period_id=period_id)
    if period is None:
        raise NotFound(f"There is no period {period_id!r}.")
    return period


async def list_periods(session: AsyncSession) -> list[Period]:
    return await repository.list_periods(session)


async def current_period(session: AsyncSession, *, organisation_id: str) -> Period:
    """The organisation's open period, else its most recent one."""
    found = [
        p for p in await repository.list_periods(session) if p.organisation_id == organisation_id
    ]
    if not found:
        raise NotFound("There is no survey period yet.")
    return next((p for p in found if p.status == "open"), found[0])


async def import_organisation(
    session: AsyncSession, *, period_id: str, parse: Callable[[], Organisation]
) -> int:
    """Replace the period's directory with an import, all or nothing. Refused with every
    problem when the files are invalid, and refused once the period has opened. `parse`
    runs after the period is locked and checked."""
    period = await repository.get_period(session, period_id=period_id, lock="update")
    if period is None:
        raise NotFound(f"There is no period {period_id!r}.")
    if period.status != "scheduled":
        raise OrganisationFrozen(
            "The organisation is frozen: this period has opened, so it can no longer be "
            "imported again."
        )
    try:
        organisation = parse()
    except ImportRefused as refused:
        raise ImportRefusedError(
            f"The import was refused: {len(refused.problems)} problem(s). Nothing was stored.",
            problems=[p.to_dict() for p in refused.problems],
        ) from refused
    await repository.delete_directory(session, period_id=period_id)
    invitations = await repository.store_organisation(
        session, period_id=period_id, organisation=organisation
    )
    log.info(
        "survey.organisation.imported",
        period_id=period_id,
        units=len(organisation.units),
        people=len(organisation.people),
        invitations=invitations,
    )
    return invitations


async def open_period(session: AsyncSession, *, period: Period, now: datetime) -> str | None:
    """Open a locked, scheduled period: emit period-opened and directory-updated. When it
    cannot open yet it stays scheduled, and the reason is returned (the scheduler says it
    once, not at every tick)."""
    if not period.organisation_imported:
        return "no organisation"
    other = await repository.open_period_of(
        session, organisation_id=period.organisation_id, excluding=period.id
    )
    if other is not None:
        return "another period is open"
    units = await repository.units_of(session, period_id=period.id)
    roles = await repository.roles_of(session, period_id=period.id)
    members = await repository.members_of(session, period_id=period.id)
    questionnaire = load_questionnaire(period.questionnaire_version)
    if checksum(questionnaire) != period.questionnaire_checksum:
        raise Conflict(f"Questionnaire {period.questionnaire_version} changed after pinning.")
    await repository.set_period_open(session, period_id=period.id, at=now)
    stage_event(
        session,
        PeriodOpened(
            period_id=period.id,
            organisation_id=period.organisation_id,
            name=period.name,
            opens_at=period.opens_at,
            closes_at=period.closes_at,
            questionnaire_version=period.questionnaire_version,
            questionnaire=to_contract(questionnaire),
            k=period.k,
            sensitive_k=period.sensitive_k,
            stage_1_delay=period.stage_1_delay,
            stage_2_delay=period.stage_2_delay,
            plan_deadline=period.plan_deadline,
            units=tuple(
                UnitInScope(
                    unit_id=u.unit_id,
                    parent_id=u.parent_id,
                    name=u.name,
                    level=u.level,
                    eligible=u.eligible,
                )
                for u in units
            ),
        ),
    )
    stage_event(
        session,
        DirectoryUpdated(
            period_id=period.id,
            units=tuple(
                Unit(unit_id=u.unit_id, parent_id=u.parent_id, name=u.name, level=u.level)
                for u in units
            ),
            roles=tuple(
                RoleAssignment(
                    person_id=r.employee_id,
                    unit_id=r.unit_id,
                    role=r.role,  # type: ignore[arg-type]
                    name=r.name,
                    email=r.email,
                    language=r.language,  # type: ignore[arg-type]
                )
                for r in roles
            ),
            members=tuple(
                Membership(
                    person_id=m.employee_id,
                    unit_id=m.unit_id,
                    name=m.name,
                    email=m.email,
                    language=m.language,  # type: ignore[arg-type]
                )
                for m in members
            ),
        ),
    )
    log.info("survey.period.opened", period_id=period.id, units=len(units))
    return None


async def close_period(session: AsyncSession, *, period_id: str, now: datetime) -> dict[str, int]:
    """Close an open period: release every response still held, then emit period-closed
    with the per-unit totals released. Returns the totals."""
    await repository.lock_release(session, period_id=period_id, wait=True)
    # Waits for submissions in flight (they hold the period FOR SHARE), blocks new ones.
    period = await repository.get_period(session, period_id=period_id, lock="update")
    if period is None:
        raise NotFound(f"There is no period {period_id!r}.")
    if period.status != "open":
        raise Conflict(f"The period is {period.status}, not open.")
    await release.release_all(session, period=period, today=now.date())
    # The final counts, whatever the batching interval.
    await participation.send_changes(
        session, period_id=period_id, now=now, min_interval=timedelta(0)
    )
    released = await repository.released_totals(session, period_id=period_id)
    units = await repository.units_of(session, period_id=period_id)
    totals = {u.unit_id: released.get(u.unit_id, 0) for u in units}
    await repository.set_period_closed(session, period_id=period_id, at=now)
    stage_event(
        session,
        PeriodClosed(period_id=period_id, closed_at=now, totals=totals),
    )
    log.info("survey.period.closed", period_id=period_id, responses=sum(totals.values()))
    return totals


async def open_early(session: AsyncSession, *, period_id: str, now: datetime) -> Period:
    """Open a scheduled period now rather than at its opening time (HR's decision).
    Refused, saying why, when it cannot open (no organisation, another period open)."""
    period = await repository.get_period(session, period_id=period_id, lock="update")
    if period is None:
        raise NotFound(f"There is no period {period_id!r}.")
    if period.status != "scheduled":
        raise Conflict(f"The period is {period.status}, not scheduled.")
    reason = await open_period(session, period=period, now=now)
    if reason is not None:
        raise Conflict(f"The period cannot open yet: {reason}.")
    return await get_period(session, period_id=period_id)
