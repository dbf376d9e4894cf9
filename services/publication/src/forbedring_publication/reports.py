"""Use cases of reading: who may see what, the schedule, the unit list and a unit's
report data (through the single-flight cache). Reads only this service's own tables."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.db import Sessions, count_unit_results, unit_of_work
from forbedring_chassis.logging import get_logger
from forbedring_contracts.events import Questionnaire, SuppressedUnitResults
from forbedring_publication import repository
from forbedring_publication.cache import ReportCache
from forbedring_publication.domain import report as report_data
from forbedring_publication.domain import roll_up as roll_up_rules
from forbedring_publication.domain.release import is_admin, may_read_results
from forbedring_publication.errors import Forbidden, NotFound
from forbedring_publication.models import Period, UnitResultRow
from forbedring_publication.release import schedule_body, schedule_of
from forbedring_publication.schemas import ReleaseSchedule, SuppressedSummary, UnitList

log = get_logger(__name__)


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
    raise Forbidden(message, schedule=schedule_body(access.period).model_dump(mode="json"))


async def schedule(session: AsyncSession, *, period_id: str, person_id: str) -> ReleaseSchedule:
    """Everyone signed in sees when results come; HR admins also see how far the
    results have arrived."""
    access = await access_of(session, period_id=period_id, person_id=person_id)
    body = schedule_body(access.period)
    if is_admin(access.roles):
        body.units_received = await count_unit_results(session, UnitResultRow, period_id=period_id)
        body.units_expected = access.period.unit_count
    return body


async def unit_list(session: AsyncSession, *, period_id: str, person_id: str) -> UnitList:
    access = await access_of(session, period_id=period_id, person_id=person_id)
    require_results(access)
    units = await repository.directory_units(session, period_id=period_id)
    names = {u.unit_id: u.name for u in units.values()}
    rows = await repository.list_unit_results(session, period_id=period_id)
    results = {row.unit_id: report_data.parse(row.value) for row in rows}
    texts = report_data.Texts.of(_questionnaire(access.period), "nb")
    summaries = [
        report_data.summary(
            unit,
            names,
            covered=results,
            texts=texts,
            parent_id=units[unit_id].parent_id if unit_id in units else None,
            level=units[unit_id].level if unit_id in units else None,
        )
        for unit_id, unit in results.items()
    ]
    refused = {
        s.unit_id for s in summaries if isinstance(s, SuppressedSummary) and s.roll_up is None
    }
    _log_refused_roll_ups(period_id, results, texts, among=refused)
    return UnitList(period_id=period_id, stage=access.released_stage, units=summaries)


def _questionnaire(period: Period) -> Questionnaire | None:
    return Questionnaire.model_validate(period.questionnaire) if period.questionnaire else None


def _log_refused_roll_ups(
    period_id: str,
    loaded: Mapping[str, report_data.Results],
    texts: report_data.Texts,
    *,
    among: Collection[str] | None = None,
) -> None:
    """A roll-up that is not the combination of its sub-units' published cells is not
    shown (it may hold the hidden unit's own figures): say so, by unit and field only.
    `among`: the units to look at, when known (default: every one loaded)."""
    for unit_id, results in loaded.items():
        if not isinstance(results, SuppressedUnitResults) or results.roll_up is None:
            continue
        if among is not None and unit_id not in among:
            continue
        problems = roll_up_rules.problems(
            results.roll_up, loaded, reverse_scored=texts.reverse_scored
        )
        if problems:
            log.error(
                "publication.roll_up.refused",
                period_id=period_id,
                unit_id=unit_id,
                problems=problems,
            )


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
    questionnaire = _questionnaire(period)
    this = units.get(unit_id)
    root = next((u.unit_id for u in units.values() if u.parent_id is None), None)
    children = sorted((u for u in units.values() if u.parent_id == unit_id), key=lambda u: u.name)
    wanted = {c.unit_id for c in children} | {root, this.parent_id if this else None}
    loaded = {unit_id: report_data.parse(row.value)} | await _results_of(
        session, period_id=period.period_id, unit_ids={u for u in wanted if u}
    )
    # The published units that the roll-ups shown here sum (this unit's, if it is hidden;
    # the parent's, compared with; the sub-units', listed): each is checked against them.
    named = {
        sub
        for results in loaded.values()
        if isinstance(results, SuppressedUnitResults) and results.roll_up is not None
        for sub in results.roll_up.sub_units
    }
    loaded |= await _results_of(session, period_id=period.period_id, unit_ids=named - set(loaded))
    _log_refused_roll_ups(period.period_id, loaded, report_data.Texts.of(questionnaire, language))

    previous = None
    if period.finalized_at is not None:
        # Last period's results of the same unit id, once they were released to everyone.
        before = await repository.previous_period(session, before=period.finalized_at)
        if before is not None and schedule_of(before).released_stage == 2:
            earlier = await _results_of(session, period_id=before.period_id, unit_ids={unit_id})
            previous = earlier.get(unit_id)

    data = report_data.report(
        loaded[unit_id],
        names={u.unit_id: u.name for u in units.values()},
        questionnaire=questionnaire,
        language=language,
        stage=stage,
        parent=loaded.get(this.parent_id) if this and this.parent_id else None,
        enterprise=loaded.get(root) if root else None,
        sub_units=[loaded[c.unit_id] for c in children if c.unit_id in loaded],
        previous=previous,
        covered=loaded,
    )
    return data.model_dump_json().encode()


async def _results_of(
    session: AsyncSession, *, period_id: str, unit_ids: set[str]
) -> dict[str, report_data.Results]:
    stored = await repository.unit_results_of(
        session, period_id=period_id, unit_ids=sorted(unit_ids)
    )
    return {unit: report_data.parse(value) for unit, value in stored.items()}
