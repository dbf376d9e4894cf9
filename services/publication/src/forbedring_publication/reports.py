"""Use cases of reading: who may see what, the schedule, the unit list and a unit's
report data (through the single-flight cache). Reads only this service's own tables."""

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.db import Sessions, unit_of_work
from forbedring_contracts.events import Questionnaire
from forbedring_publication import repository
from forbedring_publication.cache import ReportCache
from forbedring_publication.domain import report as report_data
from forbedring_publication.domain.release import is_admin, may_read_results
from forbedring_publication.errors import Forbidden, NotFound
from forbedring_publication.models import Period
from forbedring_publication.release import schedule_body, schedule_of


@dataclass(frozen=True)
class Access:
    period: Period
    roles: frozenset[str]
    released_stage: int


async def access_of(session: AsyncSession, *, period_id: str, person_id: str) -> Access:
    period = await repository.get_period(session, period_id=period_id)
    if period is None:
        raise NotFound(f"There is no period {period_id!r}.")
    roles = await repository.roles_of(session, period_id=period_id, person_id=person_id)
    return Access(period, roles, schedule_of(period).released_stage)


def require_results(access: Access) -> None:
    if may_read_results(roles=access.roles, released_stage=access.released_stage):
        return
    if access.released_stage == 0:
        message = "The results are not released yet."
    else:
        message = "The results are released to leaders and representatives first; "
        message += "every employee can read them from stage 2."
    raise Forbidden(message, schedule=schedule_body(access.period))


async def schedule(session: AsyncSession, *, period_id: str, person_id: str) -> dict[str, Any]:
    """Everyone signed in sees when results come; HR admins also see how far the
    results have arrived."""
    access = await access_of(session, period_id=period_id, person_id=person_id)
    body = schedule_body(access.period)
    if is_admin(access.roles):
        body["units_received"] = await repository.count_unit_results(session, period_id=period_id)
        body["units_expected"] = access.period.unit_count
    return body


async def unit_list(session: AsyncSession, *, period_id: str, person_id: str) -> dict[str, Any]:
    access = await access_of(session, period_id=period_id, person_id=person_id)
    require_results(access)
    units = await repository.directory_units(session, period_id=period_id)
    names = {u.unit_id: u.name for u in units.values()}
    rows = await repository.list_unit_results(session, period_id=period_id)
    return {
        "period_id": period_id,
        "stage": access.released_stage,
        "units": [
            {
                **report_data.summary(report_data.parse(row.value), names),
                "parent_id": units[row.unit_id].parent_id if row.unit_id in units else None,
                "level": units[row.unit_id].level if row.unit_id in units else None,
            }
            for row in rows
        ],
    }


async def indicator_overview(
    session: AsyncSession, *, period_id: str, person_id: str, target: float
) -> dict[str, Any]:
    """The enterprise's safety-climate indicator: share of units meeting it, per level."""
    access = await access_of(session, period_id=period_id, person_id=person_id)
    require_results(access)
    units = await repository.directory_units(session, period_id=period_id)
    rows = await repository.list_unit_results(session, period_id=period_id)
    return {
        "period_id": period_id,
        "target": target,
        "levels": report_data.indicator_by_level(
            [report_data.parse(row.value) for row in rows],
            {u.unit_id: u.level for u in units.values()},
            target=target,
        ),
    }


async def unit_report(
    *,
    sessions: Sessions,
    cache: ReportCache,
    period_id: str,
    unit_id: str,
    person_id: str,
    language: str,
) -> bytes:
    """The unit's report data as JSON bytes; access is checked on every request, the
    data itself is computed once per (period, unit, stage, language)."""
    async with unit_of_work(sessions) as session:
        access = await access_of(session, period_id=period_id, person_id=person_id)
        require_results(access)
        if not await repository.unit_result_exists(session, period_id=period_id, unit_id=unit_id):
            raise NotFound(f"There are no results for unit {unit_id!r} in this period.")

    async def compute() -> bytes:
        async with unit_of_work(sessions) as session:
            return await _report_bytes(
                session,
                period=access.period,
                unit_id=unit_id,
                language=language,
                stage=access.released_stage,
            )

    key = cache.key(
        period_id=period_id, unit_id=unit_id, stage=access.released_stage, language=language
    )
    return await cache.get_or_compute(key, compute)


async def _report_bytes(
    session: AsyncSession, *, period: Period, unit_id: str, language: str, stage: int
) -> bytes:
    row = await repository.get_unit_result(session, period_id=period.period_id, unit_id=unit_id)
    if row is None:
        raise NotFound(f"There are no results for unit {unit_id!r} in this period.")
    units = await repository.directory_units(session, period_id=period.period_id)
    questionnaire = (
        Questionnaire.model_validate(period.questionnaire) if period.questionnaire else None
    )
    this = units.get(unit_id)
    root = next((u.unit_id for u in units.values() if u.parent_id is None), None)
    children = sorted((u for u in units.values() if u.parent_id == unit_id), key=lambda u: u.name)
    wanted = {c.unit_id for c in children} | {root, this.parent_id if this else None}
    stored = await repository.unit_results_of(
        session, period_id=period.period_id, unit_ids=sorted(u for u in wanted if u)
    )

    previous = None
    if period.finalized_at is not None:
        # Last period's results of the same unit id, once they were released to everyone.
        before = await repository.previous_period(session, before=period.finalized_at)
        if before is not None and schedule_of(before).released_stage == 2:
            earlier = await repository.unit_results_of(
                session, period_id=before.period_id, unit_ids=[unit_id]
            )
            previous = report_data.parse(earlier[unit_id]) if unit_id in earlier else None

    def results_of(unit: str | None) -> Any:
        value = stored.get(unit) if unit is not None else None
        return report_data.parse(value) if value is not None else None

    data = report_data.report(
        report_data.parse(row.value),
        names={u.unit_id: u.name for u in units.values()},
        questionnaire=questionnaire,
        language=language,
        stage=stage,
        parent=results_of(this.parent_id if this else None),
        enterprise=results_of(root),
        sub_units=[r for r in (results_of(c.unit_id) for c in children) if r is not None],
        previous=previous,
    )
    return json.dumps(data, ensure_ascii=False).encode()
