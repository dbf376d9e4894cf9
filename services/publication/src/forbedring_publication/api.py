"""Thin JSON routes: sign-in (chassis OIDC), then one use case each."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from forbedring_chassis.auth import PrincipalDep
from forbedring_chassis.runtime import ClockDep, RuntimeDep, SessionDep
from forbedring_contracts.events import Language
from forbedring_publication import console, me, reports
from forbedring_publication.cache import ReportCache
from forbedring_publication.schemas import ReleaseSchedule, UnitList, UnitReport

router = APIRouter(prefix="/api/v1/periods/{period_id}", tags=["results"])
me_router = APIRouter(prefix="/api/v1/me", tags=["results"])


def _cache(request: Request) -> ReportCache:
    cache: ReportCache = request.app.state.report_cache
    return cache


CacheDep = Annotated[ReportCache, Depends(_cache)]


class Postpone(BaseModel):
    until: AwareDatetime = Field(description="The stage's new release time (later than now).")


@router.get("/schedule")
async def get_schedule(
    period_id: str, principal: PrincipalDep, session: SessionDep
) -> ReleaseSchedule:
    return await reports.schedule(session, period_id=period_id, person_id=principal.subject)


@router.get("/units")
async def list_units(period_id: str, principal: PrincipalDep, session: SessionDep) -> UnitList:
    return await reports.unit_list(session, period_id=period_id, person_id=principal.subject)


# The report data is served as cached, as it was computed (a `UnitReport`); the model
# documents it.
@router.get("/units/{unit_id}/results", response_model=UnitReport)
async def unit_results(
    period_id: str,
    unit_id: str,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    cache: CacheDep,
    lang: Annotated[Language, Query(description="nb, nn or en")] = "nb",
) -> Response:
    body = await reports.unit_report(
        sessions=runtime.sessions,
        cache=cache,
        period_id=period_id,
        unit_id=unit_id,
        person_id=principal.subject,
        language=lang,
    )
    return Response(body, media_type="application/json")


@router.post("/stages/{stage}/postpone")
async def postpone_stage(
    period_id: str,
    stage: Annotated[int, Path(ge=1, le=2, description="1 or 2")],
    body: Postpone,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
) -> ReleaseSchedule:
    until: datetime = body.until
    return await console.postpone_stage(
        session,
        actor=principal.subject,
        period_id=period_id,
        stage=1 if stage == 1 else 2,
        until=until,
        now=clock.now(),
    )


@me_router.get("/results")
async def my_results(principal: PrincipalDep, session: SessionDep) -> list[me.MyResults]:
    """For the person's start page: each period's results, readable now or not yet."""
    return await me.my_results(session, person_id=principal.subject)
