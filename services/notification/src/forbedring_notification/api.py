"""Thin JSON routes: sign-in (chassis OIDC), then one use case each. The one-click
unsubscribe (no sign-in: the token is the credential) is in `pages`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from forbedring_chassis.auth import PrincipalDep
from forbedring_chassis.runtime import ClockDep, RuntimeDep, SessionDep
from forbedring_chassis.web.i18n import Language
from forbedring_notification import admin
from forbedring_notification.domain.kinds import Kind
from forbedring_notification.rendering import Renderer
from forbedring_notification.schemas import DeliveryList, DeliveryPublic, Preview, Status
from forbedring_notification.settings import NotificationSettings

router = APIRouter(prefix="/api/v1", tags=["notification"])


def settings_of(runtime: RuntimeDep) -> NotificationSettings:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    return settings


def renderer_of(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


SettingsDep = Annotated[NotificationSettings, Depends(settings_of)]
RendererDep = Annotated[Renderer, Depends(renderer_of)]


@router.get("/deliveries")
async def list_deliveries(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    period_id: str | None = None,
    kind: Kind | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeliveryList:
    """The sent log, newest first: what was sent, to whom, when and why, and what failed."""
    return await admin.sent_log(
        session,
        person_id=principal.subject,
        bootstrap=settings.hr_admins,
        domain=settings.message_id_domain,
        period_id=period_id,
        kind=kind.value if kind else None,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.post("/deliveries/{delivery_id}/resend")
async def resend_delivery(
    delivery_id: int,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> DeliveryPublic:
    """Send a failed (or possibly sent) email again, with the same Message-ID."""
    return await admin.resend(
        session,
        delivery_id=delivery_id,
        person_id=principal.subject,
        bootstrap=settings.hr_admins,
        domain=settings.message_id_domain,
        now=clock.now(),
    )


@router.get("/templates/{kind}/{language}")
async def preview_template(
    kind: Kind,
    language: Language,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    renderer: RendererDep,
) -> Preview:
    """A template rendered with example data, as the email would be sent."""
    await admin.require_hr_admin(session, person_id=principal.subject, bootstrap=settings.hr_admins)
    return admin.preview(renderer, kind=kind, language=language)
