"""The HR console's survey pages (`/admin`): the periods, creating one, uploading the
organisation (checked first if HR wishes, all or nothing, every problem listed when
refused), opening and closing early after a confirmation, the research export and the
audit log. Each action is one use case of `console`, which records who did it.

The console's other parts live in the services that own them (publication's release
stages, actionplan's indicator targets); this page links to them through the proxy's
one origin.

Every post is checked by the chassis's CSRF token (`CsrfProtected` on the router; the
layout puts the field into every form). An upload is parsed from Starlette's spooled
temporary files (a part over 1 MB goes to disk as it arrives), so a whole trust's files
never sit in memory twice.
"""

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from forbedring_chassis import audit
from forbedring_chassis.auth import Principal
from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.errors import PageAnswer
from forbedring_chassis.runtime import ClockDep, RuntimeDep, SessionDep
from forbedring_chassis.web import from_local_field, local_time, render
from forbedring_chassis.web.pages import public_root
from forbedring_survey import console, periods
from forbedring_survey.api import research_export_response
from forbedring_survey.domain.org_import import Organisation, parse_csv_files, parse_json
from forbedring_survey.domain.questionnaire import available_versions
from forbedring_survey.errors import Conflict, Forbidden, ImportRefusedError, Invalid, NotFound
from forbedring_survey.pages import _viewer
from forbedring_survey.settings import SurveySettings

MAX_UPLOAD_FILES: Final = 8


async def _hr_admin(request: Request, session: SessionDep, runtime: RuntimeDep) -> Principal:
    """The signed-in HR admin; anyone else gets the sign-in page or a refusal instead of
    the route (every route of the console: the router depends on it)."""
    principal = await _viewer(request, session, why="survey.admin.signin")
    settings = runtime.settings
    assert isinstance(settings, SurveySettings)
    try:
        await periods.require_hr_admin(
            session,
            employee_id=principal.subject,
            organisation_id=settings.organisation_id,
            bootstrap=settings.hr_admins,
        )
    except Forbidden:
        raise PageAnswer(render(request, "admin/refused.html", status_code=403)) from None
    return principal


HrAdmin = Annotated[Principal, Depends(_hr_admin)]

router = APIRouter(
    prefix="/admin", include_in_schema=False, dependencies=[CsrfProtected, Depends(_hr_admin)]
)


def _redirect(request: Request, name: str, **params: str) -> RedirectResponse:
    return RedirectResponse(
        public_root(request) + request.app.url_path_for(name, **params),
        status_code=status.HTTP_303_SEE_OTHER,
    )


def _actor(principal: Principal) -> str:
    return principal.subject


# --- the console's home: periods, and a new one --------------------------------------------


def _blank_form() -> dict[str, str]:
    return {
        "name": "",
        "opens_at": "",
        "closes_at": "",
        "stage_1_delay_days": "0",
        "stage_2_delay_days": "7",
        "plan_deadline": "",
        "k": "5",
        "sensitive_k": "10",
        "questionnaire_version": (available_versions() or ("",))[-1],
    }


async def _home(
    request: Request,
    session: Any,
    *,
    values: Mapping[str, str],
    problem: str | None,
    detail: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/home.html",
        {
            "periods": await periods.list_periods(session),
            "values": values,
            "problem": problem,
            "detail": detail,
            "versions": available_versions(),
        },
        status_code=422 if problem else 200,
    )


@router.get("", response_class=HTMLResponse, name="admin-home")
async def home(request: Request, session: SessionDep) -> Response:
    return await _home(request, session, values=_blank_form(), problem=None)


def _local(value: str, *, required: bool) -> datetime | None:
    """A `datetime-local` field, in the trust's time zone."""
    if not value:
        if required:
            raise ValueError("missing")
        return None
    return from_local_field(value)


def _days(value: str) -> timedelta:
    return timedelta(days=float(value.replace(",", ".")))


@router.post("/periods", name="admin-create-period")
async def create_period(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    clock: ClockDep,
    principal: HrAdmin,
) -> Response:
    form = await request.form()
    values = {key: str(form.get(key) or "").strip() for key in _blank_form()}
    settings = runtime.settings
    assert isinstance(settings, SurveySettings)
    try:
        opens_at = _local(values["opens_at"], required=True)
        assert opens_at is not None
        closes_at = _local(values["closes_at"], required=False)
        deadline = date.fromisoformat(values["plan_deadline"]) if values["plan_deadline"] else None
        stage_1, stage_2 = _days(values["stage_1_delay_days"]), _days(values["stage_2_delay_days"])
        k, sensitive_k = int(values["k"]), int(values["sensitive_k"])
    except ValueError:
        return await _home(request, session, values=values, problem="survey.admin.form_invalid")
    if not values["name"]:
        return await _home(request, session, values=values, problem="survey.admin.name_missing")
    try:
        period = await console.create_period(
            session,
            actor=_actor(principal),
            now=clock.now(),
            organisation_id=settings.organisation_id,
            name=values["name"],
            opens_at=opens_at,
            closes_at=closes_at,
            stage_1_delay=stage_1,
            stage_2_delay=stage_2,
            plan_deadline=deadline,
            k=k,
            sensitive_k=sensitive_k,
            questionnaire_version=values["questionnaire_version"],
        )
    except Invalid as refused:
        return await _home(
            request,
            session,
            values=values,
            problem="survey.admin.period_refused",
            detail=refused.message,
        )
    return _redirect(request, "admin-period", period_id=period.id)


# --- one period: the organisation, opening and closing, the export ---------------------------


async def _period_page(
    request: Request,
    session: Any,
    period_id: str,
    *,
    preview: console.ImportPreview | None = None,
    problems: list[dict[str, Any]] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        period = await periods.get_period(session, period_id=period_id)
    except NotFound:
        return render(request, "admin/not_found.html", status_code=404)
    return render(
        request,
        "admin/period.html",
        {
            "period": period,
            "preview": preview,
            "problems": problems,
            "message": message,
            "local": local_time,
        },
        status_code=status_code,
    )


@router.get("/periods/{period_id}", response_class=HTMLResponse, name="admin-period")
async def period_page(period_id: str, request: Request, session: SessionDep) -> Response:
    return await _period_page(request, session, period_id)


async def _uploaded(form: FormData) -> Callable[[], Organisation] | None:
    """The posted files as the API takes them: CSV files (by name), or one JSON file."""
    files: dict[str, bytes] = {}
    for _, value in form.multi_items():
        if isinstance(value, UploadFile) and value.filename:
            files[value.filename] = await value.read()
            await value.close()
    if not files or len(files) > MAX_UPLOAD_FILES:
        return None
    if len(files) == 1 and next(iter(files)).lower().endswith(".json"):
        body = next(iter(files.values()))
        return lambda: parse_json(body)
    return lambda: parse_csv_files(files)


@router.post("/periods/{period_id}/organisation", name="admin-import")
async def import_organisation(
    period_id: str,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: HrAdmin,
) -> Response:
    form = await request.form(max_files=MAX_UPLOAD_FILES)
    parse = await _uploaded(form)
    if parse is None:
        return await _period_page(
            request, session, period_id, message="survey.admin.no_files", status_code=422
        )
    try:
        preview = await console.import_organisation(
            session,
            actor=_actor(principal),
            now=clock.now(),
            period_id=period_id,
            parse=parse,
            check_only=form.get("action") == "check",
        )
    except ImportRefusedError as refused:
        return await _period_page(
            request, session, period_id, problems=refused.problems, status_code=422
        )
    except (Conflict, NotFound) as refused:
        return await _period_page(
            request, session, period_id, message=refused.message, status_code=409
        )
    return await _period_page(request, session, period_id, preview=preview)


_CONFIRMABLE: Final = {"open": "survey.admin.open", "close": "survey.admin.close"}


@router.get(
    "/periods/{period_id}/confirm/{action}", response_class=HTMLResponse, name="admin-confirm"
)
async def confirm(period_id: str, action: str, request: Request, session: SessionDep) -> Response:
    """Opening or closing early asks first: the step cannot be undone."""
    if action not in _CONFIRMABLE:
        return render(request, "admin/not_found.html", status_code=404)
    try:
        period = await periods.get_period(session, period_id=period_id)
    except NotFound:
        return render(request, "admin/not_found.html", status_code=404)
    return render(request, "admin/confirm.html", {"period": period, "action": action})


@router.post("/periods/{period_id}/confirm/{action}", name="admin-act")
async def act(
    period_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: HrAdmin,
) -> Response:
    if action not in _CONFIRMABLE:
        return render(request, "admin/not_found.html", status_code=404)
    use_case = console.open_early if action == "open" else console.close_early
    try:
        await use_case(session, actor=_actor(principal), now=clock.now(), period_id=period_id)
    except (Conflict, NotFound) as refused:
        return await _period_page(
            request, session, period_id, message=refused.message, status_code=409
        )
    return _redirect(request, "admin-period", period_id=period_id)


@router.get("/periods/{period_id}/research-export.csv", name="admin-research-export")
async def research_export(
    period_id: str,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: HrAdmin,
) -> Response:
    try:
        export = await console.research_export_of(
            session, actor=_actor(principal), now=clock.now(), period_id=period_id
        )
    except (Conflict, NotFound) as refused:
        return await _period_page(
            request, session, period_id, message=refused.message, status_code=409
        )
    return research_export_response(export, period_id=period_id)


@router.get("/audit", response_class=HTMLResponse, name="admin-audit")
async def audit_page(request: Request, session: SessionDep) -> Response:
    return await audit.log_page(request, session)
