"""Pages for people: HR's sent log (filter, resend) and template previews, and the
unsubscribe page of the participation digest. Each route goes through the same use cases
as the JSON API."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from forbedring_chassis.csrf import CsrfProtected
from forbedring_chassis.runtime import ClockDep, SessionDep
from forbedring_chassis.web import (
    LANGUAGE_NAMES,
    LANGUAGES,
    page_principal,
    render,
    request_language,
    url_path,
)
from forbedring_chassis.web.i18n import is_language
from forbedring_notification import admin, unsubscribe
from forbedring_notification.api import RendererDep, SettingsDep
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.errors import NotFound, NotificationError
from forbedring_notification.schemas import STATUSES

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100


def _refused(request: Request, error: NotificationError) -> HTMLResponse:
    return render(
        request,
        "refused.html",
        {"message": error.message},
        status_code=error.status_code,
    )


def _filters(period_id: str | None, kind: str | None, status: str | None) -> dict[str, str]:
    return {
        name: value
        for name, value in (("period_id", period_id), ("kind", kind), ("status", status))
        if value
    }


@router.get("/", response_class=HTMLResponse, name="home")
async def home(request: Request) -> Response:
    return RedirectResponse(url_path(request, "admin-log"), status_code=303)


@router.get("/admin", response_class=HTMLResponse, name="admin-log")
async def admin_log(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    period_id: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    page: int = 1,
) -> HTMLResponse:
    principal = await page_principal(request, why="admin.signin.text")
    filters = _filters(
        period_id, kind if kind in set(Kind) else None, status if status in STATUSES else None
    )
    page = max(page, 1)
    try:
        log = await admin.sent_log(
            session,
            person_id=principal.subject,
            bootstrap=settings.hr_admins,
            domain=settings.message_id_domain,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            **filters,
        )
    except NotificationError as error:
        return _refused(request, error)
    query = urlencode(filters)
    return render(
        request,
        "admin.html",
        {
            "log": log,
            "filters": filters,
            "kinds": list(Kind),
            "statuses": STATUSES,
            "resendable": admin.RESENDABLE,
            "page": page,
            "pages": max(1, -(-log.total // PAGE_SIZE)),
            "query": query,
        },
    )


@router.post(
    "/admin/deliveries/{delivery_id}/resend", name="admin-resend", dependencies=[CsrfProtected]
)
async def admin_resend(
    delivery_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    back: Annotated[str, Form()] = "",
) -> Response:
    principal = await page_principal(request, why="admin.signin.text")
    try:
        await admin.resend(
            session,
            delivery_id=delivery_id,
            person_id=principal.subject,
            bootstrap=settings.hr_admins,
            domain=settings.message_id_domain,
            now=clock.now(),
        )
    except NotificationError as error:
        return _refused(request, error)
    target = url_path(request, "admin-log") + (f"?{back}" if back else "")
    return RedirectResponse(
        target + ("&" if back else "?") + f"resent={delivery_id}", status_code=303
    )


# The email's own HTML, framed by the preview page. Emails carry their styles inline (mail
# clients read no stylesheet), which the pages' policy refuses; this response alone allows
# inline styles, and nothing else (no script, no request anywhere), framed only by our own
# pages. The page frames it with `sandbox`, so even a script would not run.
EMAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


async def _previewed(
    request: Request, session: SessionDep, settings: SettingsDep, *, kind: str
) -> Kind | HTMLResponse:
    """The kind to preview, or the page to answer instead (sign in, refused)."""
    principal = await page_principal(request, why="admin.signin.text")
    try:
        await admin.require_hr_admin(
            session, person_id=principal.subject, bootstrap=settings.hr_admins
        )
        if kind not in set(Kind):
            raise NotFound(f"There is no template {kind!r}.")
    except NotificationError as error:
        return _refused(request, error)
    return Kind(kind)


@router.get("/admin/preview", response_class=HTMLResponse, name="admin-preview")
async def admin_preview(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    renderer: RendererDep,
    kind: str = Kind.PERIOD_OPENED_EMPLOYEE.value,
    language: str | None = None,
) -> HTMLResponse:
    """A template in a language (the email's; the page's own by default), with example
    data: subject, headers, the HTML version framed from its own route, the text."""
    chosen = await _previewed(request, session, settings, kind=kind)
    if isinstance(chosen, HTMLResponse):
        return chosen
    email_language = language if is_language(language) else request_language(request)
    preview = admin.preview(renderer, kind=chosen, language=email_language)
    return render(
        request,
        "preview.html",
        {
            "preview": preview,
            "kinds": list(Kind),
            "kind": chosen.value,
            "languages_of_email": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "email_language": email_language,
        },
    )


@router.get(
    "/admin/preview/{kind}/{language}.html", response_class=HTMLResponse, name="admin-preview-html"
)
async def admin_preview_html(
    kind: str,
    language: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    renderer: RendererDep,
) -> HTMLResponse:
    """The HTML version of a template's email, as sent, to be framed by the preview page."""
    chosen = await _previewed(request, session, settings, kind=kind)
    if isinstance(chosen, HTMLResponse):
        return chosen
    if not is_language(language):
        return _refused(request, NotFound(f"There is no language {language!r}."))
    preview = admin.preview(renderer, kind=chosen, language=language)
    return HTMLResponse(
        preview.html,
        headers={
            "Content-Security-Policy": EMAIL_PREVIEW_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Language": language,
        },
    )


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, name="unsubscribe")
async def unsubscribe_page(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Fetching the link changes nothing (link checkers fetch links); the button does."""
    try:
        state = await unsubscribe.status(session, token=token)
    except NotificationError as error:
        return _refused(request, error)
    return render(request, "unsubscribe.html", {"state": state, "token": token, "done": False})


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, name="unsubscribe-post")
async def unsubscribe_post(
    token: str, request: Request, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    """RFC 8058 one-click (a mail client posts `List-Unsubscribe=One-Click`), and the
    page's own button."""
    try:
        state = await unsubscribe.set_digests(session, token=token, digests=False, now=clock.now())
    except NotificationError as error:
        return _refused(request, error)
    return render(request, "unsubscribe.html", {"state": state, "token": token, "done": True})


@router.post(
    "/unsubscribe/{token}/resubscribe",
    response_class=HTMLResponse,
    name="resubscribe",
    dependencies=[CsrfProtected],
)
async def resubscribe(
    token: str, request: Request, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    try:
        state = await unsubscribe.set_digests(session, token=token, digests=True, now=clock.now())
    except NotificationError as error:
        return _refused(request, error)
    return render(request, "unsubscribe.html", {"state": state, "token": token, "done": True})
