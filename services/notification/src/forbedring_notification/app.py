from zoneinfo import ZoneInfo

from fastapi import FastAPI

from forbedring_chassis.auth import TokenVerifier
from forbedring_chassis.clock import Clock, SystemClock
from forbedring_chassis.runtime import Runtime, create_service_app
from forbedring_chassis.web import Pages
from forbedring_notification import api, pages, scheduled
from forbedring_notification.consumers import consumers
from forbedring_notification.relay import EMAIL_METRICS, MailRelay
from forbedring_notification.rendering import Renderer
from forbedring_notification.scheduler import Scheduler
from forbedring_notification.settings import NotificationSettings


def renderer_of(settings: NotificationSettings) -> Renderer:
    return Renderer(
        public_base_url=settings.public_base_url,
        sender=settings.mail_from,
        message_id_domain=settings.message_id_domain,
        zone=ZoneInfo(settings.time_zone),
    )


def create_app(
    settings: NotificationSettings | None = None,
    *,
    clock: Clock | None = None,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    """The notification service. `clock` and `verifier` are for tests (defaults: the
    system clock; the configured OIDC issuer, plus the development issuer when enabled)."""
    settings = settings or NotificationSettings()
    the_clock: Clock = clock or SystemClock()
    renderer = renderer_of(settings)
    rules = scheduled.Rules(
        zone=ZoneInfo(settings.time_zone),
        working_hours=(settings.working_hours_start, settings.working_hours_end),
        reminder_days_before_close=tuple(settings.reminder_days_before_close),
        digest_daily_days=settings.digest_daily_days,
    )

    async def run_relay(runtime: Runtime) -> None:
        await app.state.mail_relay.run()

    async def run_scheduler(runtime: Runtime) -> None:
        await app.state.scheduler.run()

    app = create_service_app(
        settings=settings,
        package="forbedring_notification",
        pages=Pages.for_package("forbedring_notification"),
        verifier=verifier,
        routers=[api.router, pages.router],
        consumes=consumers(the_clock),
        background=[
            *([run_relay] if settings.relay_enabled else []),
            *([run_scheduler] if settings.scheduler_enabled else []),
        ],
        clock=the_clock,
        metrics=EMAIL_METRICS,
    )
    runtime: Runtime = app.state.runtime
    relay = MailRelay(
        sessions=runtime.sessions, clock=the_clock, renderer=renderer, settings=settings
    )
    runtime.extras["mail_relay"] = relay
    app.state.mail_relay = relay
    app.state.renderer = renderer
    app.state.scheduler = Scheduler(
        sessions=runtime.sessions,
        clock=the_clock,
        rules=rules,
        interval_s=settings.scheduler_interval_s,
        wake=relay.wake,
    )
    return app
