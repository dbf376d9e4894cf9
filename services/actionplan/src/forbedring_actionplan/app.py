from fastapi import FastAPI

from forbedring_actionplan import admin_pages, pages
from forbedring_actionplan.api import router
from forbedring_actionplan.consumers import consumers
from forbedring_actionplan.scheduler import Scheduler
from forbedring_actionplan.settings import ActionplanSettings
from forbedring_actionplan.suggestions import Suggestions
from forbedring_chassis.auth import TokenVerifier
from forbedring_chassis.clock import Clock
from forbedring_chassis.runtime import Runtime, create_service_app
from forbedring_chassis.web import Pages


def create_app(
    settings: ActionplanSettings | None = None,
    *,
    clock: Clock | None = None,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    """The actionplan service; `clock` and `verifier` replace create_service_app's
    defaults in tests. Its scheduler and consumers read the runtime's clock."""
    settings = settings or ActionplanSettings()

    async def run_scheduler(runtime: Runtime) -> None:
        await scheduler_of(runtime).run()

    def scheduler_of(runtime: Runtime) -> Scheduler:
        return Scheduler(
            sessions=runtime.sessions,
            clock=runtime.clock,
            interval_s=settings.scheduler_interval_s,
            wake=runtime.relay.wake,
        )

    app = create_service_app(
        settings=settings,
        package="forbedring_actionplan",
        pages=Pages.for_package("forbedring_actionplan"),
        verifier=verifier,
        routers=[router, pages.router, admin_pages.router],
        consumes=consumers(lambda: runtime.clock),
        background=[run_scheduler] if settings.scheduler_enabled else [],
        clock=clock,
    )
    runtime: Runtime = app.state.runtime
    app.state.scheduler = scheduler_of(runtime)
    app.state.suggestions = Suggestions.load()
    return app
