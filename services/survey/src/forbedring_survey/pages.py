"""The employee's pages: their surveys, the questionnaire form, the confirmation and live
participation. Server-rendered, working without JavaScript; they call the same use cases
as the JSON API (`answering`, `participation`), so the rules live in one place.

A survey's address is its position in the person's own list (`/answer/1`, `/answer/2`),
never the invitation id: request paths reach access logs and traces, and an invitation id
there, with the time, would say who answered when.

Form posts carry the chassis's CSRF token (`forbedring_chassis.csrf`).
"""

from typing import Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from forbedring_chassis.auth import Principal
from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.runtime import RuntimeDep, SessionDep
from forbedring_chassis.web import (
    Viewer,
    page_principal,
    render,
    request_language,
    signed_in,
)
from forbedring_chassis.web.pages import public_root
from forbedring_survey import answering, participation, periods
from forbedring_survey.domain.answers import PROBLEM_TEXTS, ProblemCode
from forbedring_survey.domain.questionnaire import DONT_KNOW, Questionnaire, load_questionnaire
from forbedring_survey.errors import AlreadyAnswered, InvalidAnswers, NotFound
from forbedring_survey.limits import limit_submissions
from forbedring_survey.models import Invitation
from forbedring_survey.settings import SurveySettings

router = APIRouter(include_in_schema=False)


async def _invitation(session: Any, principal: Principal, number: int) -> Invitation:
    """The person's `number`th open invitation (1-based), as the start page lists them."""
    invitations = await answering.open_invitations(session, employee_id=principal.subject)
    if not 1 <= number <= len(invitations):
        raise NotFound("You have no such survey.")
    return invitations[number - 1]


async def _viewer(request: Request, session: Any, *, why: str = "survey.signin.text") -> Principal:
    """The signed-in person, with the header's name, language and sections from this
    service's directory copy; anyone else gets the sign-in page saying `why`."""
    settings = request.app.state.runtime.settings
    assert isinstance(settings, SurveySettings)

    async def viewer(principal: Principal) -> Viewer:
        found = await answering.me(
            session, employee_id=principal.subject, organisation_id=settings.organisation_id
        )
        roles = {role for _, role in found.roles}
        if principal.subject in settings.hr_admins:  # the bootstrap admin, before any import
            roles.add("hr_admin")
        return Viewer.holding(roles, name=found.name, language=found.language)

    return await page_principal(request, why=why, viewer=viewer)


def _form_values(form: Any, questionnaire: Questionnaire) -> tuple[dict[str, Any], dict[str, Any]]:
    """The posted form as the API's answers and background (unanswered: absent)."""
    answers: dict[str, Any] = {}
    for item in questionnaire.items:
        raw = form.get(item.id)
        if not raw:
            continue
        if item.kind == "scale" and raw != DONT_KNOW:
            answers[item.id] = int(raw) if raw.isdigit() else raw
        else:
            answers[item.id] = raw
    background = {
        q.id: form.get(q.id) for q in questionnaire.background.questions if form.get(q.id)
    }
    return answers, background


def _render_form(
    request: Request,
    invitation: Invitation,
    *,
    number: int,
    answers: dict[str, Any] | None = None,
    background: dict[str, Any] | None = None,
    problems: dict[str, ProblemCode] | None = None,
) -> HTMLResponse:
    language = request_language(request)
    questionnaire = load_questionnaire(invitation.questionnaire_version)
    response = render(
        request,
        "form.html",
        {
            "invitation": invitation,
            "number": number,
            "q": questionnaire,
            "answers": answers or {},
            "background": background or {},
            "problems": problems or {},
            "problem_text": lambda code: _problem_text(code, language),
            "text": lambda texts: texts.get(language),
        },
        status_code=422 if problems else 200,
    )
    return response


def _problem_text(code: ProblemCode, language: Any) -> str:
    return PROBLEM_TEXTS[code].get(language)


@router.get("/", response_class=HTMLResponse, name="survey-home")
async def home(request: Request, session: SessionDep) -> HTMLResponse:
    principal = await _viewer(request, session)
    invitations = await answering.open_invitations(session, employee_id=principal.subject)
    return render(request, "home.html", {"invitations": invitations})


@router.get("/answer/{number}", response_class=HTMLResponse, name="survey-form")
async def form(number: int, request: Request, session: SessionDep) -> HTMLResponse:
    principal = await _viewer(request, session)
    invitation = await _invitation(session, principal, number)
    if invitation.answered:
        return render(request, "answered.html", {"invitation": invitation}, status_code=409)
    return _render_form(request, invitation, number=number)


@router.post(
    "/answer/{number}",
    name="survey-submit",
    dependencies=[CsrfProtected, Depends(limit_submissions)],
)
async def submit(number: int, request: Request, session: SessionDep) -> Response:
    principal = await _viewer(request, session)
    posted = await request.form()
    invitation = await _invitation(session, principal, number)
    if invitation.answered:
        return render(request, "answered.html", {"invitation": invitation}, status_code=409)
    questionnaire = load_questionnaire(invitation.questionnaire_version)
    answers, background = _form_values(posted, questionnaire)
    try:
        await answering.submit(
            session,
            employee_id=principal.subject,
            invitation_id=invitation.id,
            answers=answers,
            background=background,
        )
    except AlreadyAnswered:
        return render(request, "answered.html", {"invitation": invitation}, status_code=409)
    except InvalidAnswers as refused:  # nothing stored: the form again, with each problem
        return _render_form(
            request,
            invitation,
            number=number,
            answers=answers,
            background=background,
            problems={str(p["item_id"]): ProblemCode(p["code"]) for p in refused.problems},
        )
    return RedirectResponse(
        public_root(request) + request.app.url_path_for("survey-thanks"),
        status_code=status.HTTP_303_SEE_OTHER,
    )


@router.get("/thanks", response_class=HTMLResponse, name="survey-thanks")
async def thanks(request: Request, session: SessionDep) -> HTMLResponse:
    await _viewer(request, session)
    return render(request, "thanks.html")


@router.get("/participation", response_class=HTMLResponse, name="survey-participation")
async def participation_page(
    request: Request, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    await _viewer(request, session)
    settings = runtime.settings
    assert isinstance(settings, SurveySettings)
    try:
        period = await periods.current_period(session, organisation_id=settings.organisation_id)
    except NotFound:
        return render(request, "participation.html", {"period": None, "units": []})
    units = await participation.unit_counts(session, period_id=period.id)
    depth: dict[str | None, int] = {None: -1}
    for unit in units:  # preorder: a parent comes before its children
        depth[unit.unit_id] = depth[unit.parent_id] + 1
    principal = await signed_in(request)
    assert principal is not None
    found = await answering.me(
        session, employee_id=principal.subject, organisation_id=settings.organisation_id
    )
    mine = {unit_id for unit_id, role in found.roles if role != "hr_admin"}
    own = [unit for unit in units if unit.unit_id in mine]
    return render(
        request,
        "participation.html",
        {"period": period, "units": units, "depth": depth, "own": own},
    )
