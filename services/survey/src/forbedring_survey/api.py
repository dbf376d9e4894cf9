"""The JSON API: thin handlers that parse, call one use case and answer."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from forbedring_chassis.auth import PrincipalDep
from forbedring_chassis.runtime import ClockDep, RuntimeDep, SessionDep
from forbedring_survey import answering, console, participation, periods
from forbedring_survey.domain.org_import import Organisation, parse_csv_files, parse_json
from forbedring_survey.domain.questionnaire import (
    UnknownQuestionnaireVersionError,
    load_questionnaire,
)
from forbedring_survey.errors import Invalid, NotFound
from forbedring_survey.limits import limit_submissions
from forbedring_survey.research_export import ResearchExport
from forbedring_survey.schemas import (
    ImportAccepted,
    InvitationPublic,
    MePublic,
    ParticipationPublic,
    PeriodClosedPublic,
    PeriodCreate,
    PeriodPublic,
    QuestionnairePublic,
    RolePublic,
    SubmissionAccepted,
    SubmissionCreate,
)
from forbedring_survey.settings import SurveySettings

router = APIRouter(prefix="/api/v1", tags=["survey"])


def _settings(runtime: RuntimeDep) -> SurveySettings:
    settings = runtime.settings
    assert isinstance(settings, SurveySettings)
    return settings


SettingsDep = Annotated[SurveySettings, Depends(_settings)]


async def require_hr_admin(
    principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> str:
    await periods.require_hr_admin(
        session,
        employee_id=principal.subject,
        organisation_id=settings.organisation_id,
        bootstrap=settings.hr_admins,
    )
    return principal.subject


HrAdminDep = Annotated[str, Depends(require_hr_admin)]


# --- periods (HR admins) -------------------------------------------------------------------


@router.post("/periods", status_code=status.HTTP_201_CREATED)
async def create_period(
    body: PeriodCreate,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: HrAdminDep,
) -> PeriodPublic:
    period = await console.create_period(
        session,
        actor=actor,
        now=clock.now(),
        organisation_id=settings.organisation_id,
        name=body.name,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        stage_1_delay=body.stage_1_delay,
        stage_2_delay=body.stage_2_delay,
        plan_deadline=body.plan_deadline,
        k=body.k,
        sensitive_k=body.sensitive_k,
        questionnaire_version=body.questionnaire_version,
    )
    return PeriodPublic.of(period)


@router.get("/periods")
async def list_periods(session: SessionDep, _: PrincipalDep) -> list[PeriodPublic]:
    return [PeriodPublic.of(p) for p in await periods.list_periods(session)]


@router.get("/periods/{period_id}")
async def get_period(period_id: str, session: SessionDep, _: PrincipalDep) -> PeriodPublic:
    return PeriodPublic.of(await periods.get_period(session, period_id=period_id))


async def _organisation_parser(request: Request) -> Callable[[], Organisation]:
    """CSV files as multipart/form-data (units.csv, people.csv, assignments.csv,
    roles.csv), or one JSON document."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        files: dict[str, bytes] = {}
        for _, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[value.filename or "unnamed"] = await value.read()
        return lambda: parse_csv_files(files)
    if content_type.startswith("application/json"):
        body = await request.body()
        return lambda: parse_json(body)
    raise Invalid(
        "Send the organisation as multipart/form-data CSV files (units.csv, people.csv, "
        "assignments.csv, roles.csv) or as one application/json document."
    )


@router.post(
    "/periods/{period_id}/organisation",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            }
                        },
                    }
                },
                "application/json": {"schema": {"type": "object"}},
            }
        }
    },
)
async def import_organisation(
    period_id: str,
    session: SessionDep,
    clock: ClockDep,
    actor: HrAdminDep,
    parse: Annotated[Callable[[], Organisation], Depends(_organisation_parser)],
) -> ImportAccepted:
    preview = await console.import_organisation(
        session, actor=actor, now=clock.now(), period_id=period_id, parse=parse
    )
    return ImportAccepted(period_id=period_id, invitations=preview.invitations or 0)


@router.post("/periods/{period_id}/open")
async def open_period(
    period_id: str, session: SessionDep, clock: ClockDep, actor: HrAdminDep
) -> PeriodPublic:
    """Open a scheduled period now, before its opening time."""
    period = await console.open_early(session, actor=actor, now=clock.now(), period_id=period_id)
    return PeriodPublic.of(period)


@router.post("/periods/{period_id}/close")
async def close_period(
    period_id: str, session: SessionDep, clock: ClockDep, actor: HrAdminDep
) -> PeriodClosedPublic:
    totals = await console.close_early(session, actor=actor, now=clock.now(), period_id=period_id)
    return PeriodClosedPublic(period_id=period_id, totals=totals)


@router.get(
    "/periods/{period_id}/research-export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def get_research_export(
    period_id: str, session: SessionDep, clock: ClockDep, actor: HrAdminDep
) -> Response:
    """Background variables per unit (closed periods only; units under k left out)."""
    export = await console.research_export_of(
        session, actor=actor, now=clock.now(), period_id=period_id
    )
    return research_export_response(export, period_id=period_id)


def research_export_response(export: ResearchExport, *, period_id: str) -> Response:
    return Response(
        export.csv_text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="research-{period_id}.csv"',
            "X-Units-Included": str(export.units_included),
            "X-Units-Withheld": str(export.units_withheld),
            "Cache-Control": "no-store",
        },
    )


# --- answering -----------------------------------------------------------------------------


@router.get("/questionnaires/{version}")
async def get_questionnaire(version: str, principal: PrincipalDep) -> QuestionnairePublic:
    """The questionnaire's texts, for someone signed in (every API requires sign-in)."""
    try:
        return load_questionnaire(version)
    except UnknownQuestionnaireVersionError as exc:
        raise NotFound(f"There is no questionnaire version {version!r}.") from exc


@router.get("/me")
async def who_am_i(session: SessionDep, settings: SettingsDep, principal: PrincipalDep) -> MePublic:
    found = await answering.me(
        session, employee_id=principal.subject, organisation_id=settings.organisation_id
    )
    return MePublic(
        employee_id=found.employee_id,
        name=found.name,
        language=found.language,  # type: ignore[arg-type]
        roles=[RolePublic(unit_id=unit_id, role=role) for unit_id, role in found.roles],
    )


@router.get("/me/invitations")
async def my_invitations(session: SessionDep, principal: PrincipalDep) -> list[InvitationPublic]:
    found = await answering.open_invitations(session, employee_id=principal.subject)
    return [InvitationPublic.of(i) for i in found]


@router.post(
    "/responses",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(limit_submissions)],
)
async def submit_response(
    body: SubmissionCreate, session: SessionDep, principal: PrincipalDep
) -> SubmissionAccepted:
    await answering.submit(
        session,
        employee_id=principal.subject,
        invitation_id=body.invitation_id,
        answers=body.answers,
        background=body.background,
    )
    return SubmissionAccepted()


# --- participation -------------------------------------------------------------------------


@router.get("/participation")
async def get_current_participation(
    session: SessionDep, settings: SettingsDep, _: PrincipalDep
) -> ParticipationPublic:
    """The open period's participation (else the most recent period's)."""
    period = await periods.current_period(session, organisation_id=settings.organisation_id)
    units = await participation.unit_counts(session, period_id=period.id)
    return ParticipationPublic.of(period.id, units)


@router.get("/periods/{period_id}/participation")
async def get_participation(
    period_id: str, session: SessionDep, _: PrincipalDep
) -> ParticipationPublic:
    await periods.get_period(session, period_id=period_id)
    units = await participation.unit_counts(session, period_id=period_id)
    return ParticipationPublic.of(period_id, units)
