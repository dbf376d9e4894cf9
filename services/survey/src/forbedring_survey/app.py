from fastapi import FastAPI

from forbedring_chassis.auth import (
    build_verifier,
    development_issuer,
    development_issuer_router,
)
from forbedring_chassis.clock import Clock
from forbedring_chassis.runtime import Runtime, create_service_app
from forbedring_chassis.web import Pages, install_pages
from forbedring_survey import admin_pages, pages, start_pages
from forbedring_survey.api import router
from forbedring_survey.scheduler import PERIODS_WAITING_TO_OPEN, Scheduler
from forbedring_survey.settings import SurveySettings


def create_app(settings: SurveySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The survey service. `clock` is for tests (default: the system clock); routes and
    the scheduler read it from the runtime. Errors answer in the chassis's one shape."""
    settings = settings or SurveySettings()
    dev = development_issuer(settings)

    async def run_scheduler(runtime: Runtime) -> None:
        scheduler = Scheduler(
            sessions=runtime.sessions,
            clock=runtime.clock,
            settings=settings,
            wake=runtime.relay.wake,
        )
        await scheduler.run()

    app = create_service_app(
        settings=settings,
        package="forbedring_survey",
        routers=[
            router,
            pages.router,
            admin_pages.router,
            start_pages.router,
            *([development_issuer_router(dev)] if dev else []),
        ],
        background=[run_scheduler] if settings.scheduler_enabled else [],
        clock=clock,
        metrics=[PERIODS_WAITING_TO_OPEN],
    )
    app.state.token_verifier = build_verifier(settings, development=dev)
    install_pages(app, Pages.for_package("forbedring_survey"))
    return app
