from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from forbedring_chassis.auth import (
    build_verifier,
    development_issuer,
    development_issuer_router,
)
from forbedring_chassis.clock import Clock, SystemClock
from forbedring_chassis.runtime import Runtime, create_service_app
from forbedring_chassis.web import Pages, install_pages
from forbedring_survey import pages
from forbedring_survey.api import router
from forbedring_survey.errors import SurveyError
from forbedring_survey.scheduler import Scheduler
from forbedring_survey.settings import SurveySettings


async def _survey_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SurveyError)
    return JSONResponse(exc.body(), status_code=exc.status_code)


def create_app(settings: SurveySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The survey service. `clock` is for tests (default: the system clock)."""
    settings = settings or SurveySettings()
    the_clock: Clock = clock or SystemClock()
    dev = development_issuer(settings)

    async def run_scheduler(runtime: Runtime) -> None:
        scheduler = Scheduler(
            sessions=runtime.sessions,
            clock=the_clock,
            settings=settings,
            wake=runtime.relay.wake,
        )
        await scheduler.run()

    app = create_service_app(
        settings=settings,
        package="forbedring_survey",
        routers=[router, pages.router, *([development_issuer_router(dev)] if dev else [])],
        background=[run_scheduler] if settings.scheduler_enabled else [],
        extras={"clock": the_clock},
    )
    app.state.token_verifier = build_verifier(settings, development=dev)
    install_pages(app, Pages.for_package("forbedring_survey"))
    app.add_exception_handler(SurveyError, _survey_error)
    return app
