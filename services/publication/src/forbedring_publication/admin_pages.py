"""The HR console's release-stage page (`/admin/stages`): every period's two stages, when
each is due or was released, and a form to postpone one that has not happened yet. The
rule is `release.postpone_stage`'s; `console` records who did it. Reached from survey's
console (the navigation's Admin).

Its posts carry the chassis's CSRF token, checked for the whole router.
"""

from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from forbedring_chassis import audit
from forbedring_chassis.auth import Principal
from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.runtime import ClockDep, SessionDep
from forbedring_chassis.web import Viewer, render, sign_in_page, signed_in_viewer
from forbedring_chassis.web.pages import public_root
from forbedring_publication import console, release, repository
from forbedring_publication.domain.release import is_admin
from forbedring_publication.errors import PublicationError

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[CsrfProtected])

OSLO: Final = ZoneInfo("Europe/Oslo")


async def _hr_admin(request: Request, session: Any) -> Principal | Response:
    """The signed-in HR admin, or the page to answer with (sign in, or refused)."""
    roles: set[str] = set()

    async def viewer(principal: Principal) -> Viewer:
        roles.update(await repository.person_roles(session, person_id=principal.subject))
        return Viewer.holding(roles)

    principal = await signed_in_viewer(request, viewer)
    if principal is None:
        return sign_in_page(request, why="publication.admin.signin")
    if not is_admin(frozenset(roles)):
        return render(request, "admin_refused.html", status_code=403)
    return principal


def _local(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(OSLO).strftime("%d.%m.%Y %H:%M")


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
        {"periods": periods, "problem": problem, "local": _local},
        status_code=status_code,
    )


@router.get("/stages", response_class=HTMLResponse, name="admin-stages")
async def stages(request: Request, session: SessionDep) -> Response:
    principal = await _hr_admin(request, session)
    if not isinstance(principal, Principal):
        return principal
    return await _stages_page(request, session)


@router.get("/audit", response_class=HTMLResponse, name="admin-audit")
async def audit_page(request: Request, session: SessionDep) -> Response:
    principal = await _hr_admin(request, session)
    if not isinstance(principal, Principal):
        return principal
    return render(
        request,
        "chassis/audit.html",
        {"entries": await audit.recent(session), "local": _local},
    )


@router.post("/periods/{period_id}/stages/{stage}/postpone", name="admin-postpone")
async def postpone(
    period_id: str, stage: int, request: Request, session: SessionDep, clock: ClockDep
) -> Response:
    principal = await _hr_admin(request, session)
    if not isinstance(principal, Principal):
        return principal
    form = await request.form()
    if stage not in (1, 2):
        return render(request, "not_found.html", {"message": ""}, status_code=404)
    try:
        until = datetime.fromisoformat(str(form.get("until") or "")).replace(tzinfo=OSLO)
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
