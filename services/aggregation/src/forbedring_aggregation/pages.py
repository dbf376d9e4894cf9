"""HR's suppression preview as a page: which units would get no results if the period
closed now, why, where their answers count, and the totals. Counts only."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from forbedring_aggregation import live_state
from forbedring_aggregation.access import is_hr_admin
from forbedring_aggregation.schemas import preview_of
from forbedring_chassis.runtime import SessionDep
from forbedring_chassis.web import page_principal, render

router = APIRouter(include_in_schema=False)


@router.get(
    "/periods/{period_id}/suppression",
    response_class=HTMLResponse,
    name="suppression-preview-page",
)
async def suppression_preview_page(
    period_id: str, request: Request, session: SessionDep
) -> HTMLResponse:
    principal = await page_principal(request, why="preview.signin.text")
    if not await is_hr_admin(session, period_id=period_id, person_id=principal.subject):
        return render(request, "refused.html", {"period_id": period_id}, status_code=403)
    state = await live_state.period_state(session, period_id=period_id)
    if state is None:
        return render(request, "unknown_period.html", {"period_id": period_id}, status_code=404)
    return render(
        request,
        "suppression_preview.html",
        {"preview": preview_of(state), "names": state.names},
    )
