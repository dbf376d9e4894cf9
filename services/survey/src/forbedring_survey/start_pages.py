"""The start page (`/start`): what the signed-in person needs to do now. Survey fills in
what it owns (surveys to answer, the participation of the person's units); the results,
the plans with their deadlines and the escalations come from publication's and
actionplan's own small summaries (`/publication/api/v1/me/results`,
`/actionplan/api/v1/me/plans`), fetched by the browser (static/start.js), since a service
never calls another. Without JavaScript, or when a summary cannot be had, the page keeps
a plain link to each."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from forbedring_chassis.runtime import RuntimeDep, SessionDep
from forbedring_chassis.web import render
from forbedring_survey import answering, participation, periods
from forbedring_survey.errors import NotFound
from forbedring_survey.pages import _viewer
from forbedring_survey.settings import SurveySettings

router = APIRouter(include_in_schema=False)


@router.get("/start", response_class=HTMLResponse, name="survey-start")
async def start(request: Request, session: SessionDep, runtime: RuntimeDep) -> HTMLResponse:
    principal = await _viewer(request, session, why="survey.start.signin")
    settings = runtime.settings
    assert isinstance(settings, SurveySettings)
    invitations = await answering.open_invitations(session, employee_id=principal.subject)
    to_answer = [(n, i) for n, i in enumerate(invitations, 1) if not i.answered]
    found = await answering.me(
        session, employee_id=principal.subject, organisation_id=settings.organisation_id
    )
    roles = {role for _, role in found.roles}
    hr = "hr_admin" in roles or principal.subject in settings.hr_admins
    mine = {unit_id for unit_id, role in found.roles if role != "hr_admin"}
    own: list[Any] = []
    period = None
    if mine:
        try:
            period = await periods.current_period(session, organisation_id=settings.organisation_id)
        except NotFound:
            period = None
        if period is not None:
            units = await participation.unit_counts(session, period_id=period.id)
            own = [u for u in units if u.unit_id in mine]
    return render(
        request,
        "start.html",
        {
            "to_answer": to_answer,
            "answered": len(invitations) - len(to_answer),
            "own": own,
            "period": period,
            "leads": bool(mine),
            "hr": hr,
        },
    )
