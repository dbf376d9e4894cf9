from fastapi import FastAPI

from forbedring_chassis.clock import Clock
from forbedring_chassis.runtime import Runtime, create_service_app
from forbedring_chassis.web import Pages
from forbedring_survey import admin_pages, pages, start_pages
from forbedring_survey.api import router
from forbedring_survey.scheduler import PERIODS_WAITING_TO_OPEN, Scheduler
from forbedring_survey.settings import SurveySettings


def create_app(settings: SurveySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The survey service. `clock` is for tests (default: the system clock); routes and
    the scheduler read it from the runtime. Errors answer in the chassis's one shape."""
    settings = settings or SurveySettings()

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
        pages=Pages.for_package("forbedring_survey"),
        routers=[router, pages.router, admin_pages.router, start_pages.router],
        background=[run_scheduler] if settings.scheduler_enabled else [],
        clock=clock,
        metrics=[PERIODS_WAITING_TO_OPEN],
    )
    return app
