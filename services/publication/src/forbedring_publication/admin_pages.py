"""The HR console's release-stage page (`/admin/stages`): every period's two stages, when
each is due or was released, and a form to postpone one that has not happened yet. The
rule is `release.postpone_stage`'s; `console` records who did it. Reached from survey's
console (the navigation's Admin).

Its posts carry the chassis's CSRF token, checked for the whole router.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from forbedring_chassis import audit
from forbedring_chassis.auth import Principal
from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.errors import PageAnswer
from forbedring_chassis.runtime import ClockDep, SessionDep
from forbedring_chassis.web import (
    Viewer,
    from_local_field,
    local_time,
    page_principal,
    render,
)
from forbedring_chassis.web.pages import public_root
from forbedring_publication import console, release, repository
from forbedring_publication.domain.release import is_admin
from forbedring_publication.errors import PublicationError


async def _hr_admin(request: Request, session: SessionDep) -> Principal:
    """The signed-in HR admin; anyone else gets the sign-in page or a refusal instead of
    the route (every route of the console: the router depends on it)."""
    roles: set[str] = set()

    async def viewer(principal: Principal) -> Viewer:
        roles.update(await repository.person_roles(session, person_id=principal.subject))
        return Viewer.holding(roles)

    principal = await page_principal(request, why="publication.admin.signin", viewer=viewer)
    if not is_admin(frozenset(roles)):
        raise PageAnswer(render(request, "admin_refused.html", status_code=403))
    return principal


HrAdmin = Annotated[Principal, Depends(_hr_admin)]

router = APIRouter(
    prefix="/admin", include_in_schema=False, dependencies=[CsrfProtected, Depends(_hr_admin)]
)


async def _stages_page(
    request: Request,
    session: Any,
    *,
    problem: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    periods = [
        (period, release.schedule_body(period)) for period in await repository.list_periods(session)
    ]
    return render(
        request,
        "admin_stages.html",
        {"periods": periods, "problem": problem, "local": local_time},
        status_code=status_code,
    )


@router.get("/stages", response_class=HTMLResponse, name="admin-stages")
async def stages(request: Request, session: SessionDep) -> Response:
    return await _stages_page(request, session)


@router.get("/audit", response_class=HTMLResponse, name="admin-audit")
async def audit_page(request: Request, session: SessionDep) -> Response:
    return await audit.log_page(request, session)


@router.post("/periods/{period_id}/stages/{stage}/postpone", name="admin-postpone")
async def postpone(
    period_id: str,
    stage: int,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: HrAdmin,
) -> Response:
    form = await request.form()
    if stage not in (1, 2):
        return render(request, "not_found.html", {"message": ""}, status_code=404)
    try:
        until = from_local_field(str(form.get("until") or ""))
    except ValueError:
        return await _stages_page(
            request, session, problem=("publication.admin.until_invalid", ""), status_code=422
        )
    try:
        await console.postpone_stage(
            session,
            actor=principal.subject,
            period_id=period_id,
            stage=1 if stage == 1 else 2,
            until=until,
            now=clock.now(),
        )
    except PublicationError as refused:
        return await _stages_page(
            request,
            session,
            problem=("publication.admin.refused", refused.message),
            status_code=refused.status_code,
        )
    return RedirectResponse(
        public_root(request) + request.app.url_path_for("admin-stages"),
        status_code=status.HTTP_303_SEE_OTHER,
    )
