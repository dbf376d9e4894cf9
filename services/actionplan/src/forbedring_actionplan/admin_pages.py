"""The HR console's indicator targets (`/admin/targets`): for each period with plans, the
three targets the indicator page compares with, and a form to set them. The rule is
`targets.set_targets`'s, which records who did it; the audit log is `/admin/audit`.
Reached from survey's console (the navigation's Admin).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from forbedring_actionplan import repository, targets
from forbedring_actionplan.domain import access as rules
from forbedring_actionplan.errors import ActionplanError
from forbedring_actionplan.settings import ActionplanSettings
from forbedring_chassis import audit
from forbedring_chassis.auth import Principal
from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.errors import PageAnswer
from forbedring_chassis.runtime import ClockDep, RuntimeDep, SessionDep
from forbedring_chassis.web import Viewer, page_principal, render
from forbedring_chassis.web.pages import public_root


async def _hr_admin(request: Request, session: SessionDep) -> Principal:
    """The signed-in HR admin of any period with plans; anyone else gets the sign-in page
    or a refusal instead of the route (every route of the console: the router depends
    on it)."""
    roles: set[tuple[str, str]] = set()

    async def viewer(principal: Principal) -> Viewer:
        for period in await repository.periods_with_plans(session):
            roles.update(
                await repository.roles_of(
                    session, period_id=period.period_id, person_id=principal.subject
                )
            )
        return Viewer.holding(r for _, r in roles)

    principal = await page_principal(request, why="plan.signin.text", viewer=viewer)
    if not rules.is_hr_admin(roles):
        raise PageAnswer(render(request, "refused.html", {"key": "refused"}, status_code=403))
    return principal


HrAdmin = Annotated[Principal, Depends(_hr_admin)]

router = APIRouter(
    prefix="/admin", include_in_schema=False, dependencies=[CsrfProtected, Depends(_hr_admin)]
)


async def _targets_page(
    request: Request,
    session: Any,
    runtime: Any,
    *,
    problem: tuple[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    settings = runtime.settings
    assert isinstance(settings, ActionplanSettings)
    periods = [
        (
            period,
            await targets.targets_of(
                session, period_id=period.period_id, defaults=settings.targets()
            ),
        )
        for period in await repository.periods_with_plans(session)
    ]
    return render(
        request,
        "admin_targets.html",
        {
            "periods": periods,
            "indicators": targets.INDICATORS,
            "problem": problem,
            "saved": saved,
        },
        status_code=status_code,
    )


@router.get("/targets", response_class=HTMLResponse, name="admin-targets")
async def targets_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, saved: int = 0
) -> Response:
    return await _targets_page(request, session, runtime, saved=bool(saved))


@router.post("/periods/{period_id}/targets", name="admin-set-targets")
async def set_targets(
    period_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    clock: ClockDep,
    principal: HrAdmin,
) -> Response:
    form = await request.form()
    try:
        values = {
            key: float(str(form.get(key) or "").replace(",", ".").rstrip("% "))
            for key in targets.INDICATORS
        }
    except ValueError:
        return await _targets_page(
            request, session, runtime, problem=("admin.targets.not_a_number", ""), status_code=422
        )
    try:
        await targets.set_targets(
            session, actor=principal.subject, period_id=period_id, targets=values, now=clock.now()
        )
    except ActionplanError as refused:
        return await _targets_page(
            request,
            session,
            runtime,
            problem=("admin.targets.refused", refused.message),
            status_code=refused.status_code,
        )
    return RedirectResponse(
        public_root(request) + request.app.url_path_for("admin-targets") + "?saved=1",
        status_code=status.HTTP_303_SEE_OTHER,
    )


@router.get("/audit", response_class=HTMLResponse, name="admin-audit")
async def audit_page(request: Request, session: SessionDep) -> Response:
    return await audit.log_page(request, session)
