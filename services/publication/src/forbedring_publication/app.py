from fastapi import FastAPI

from forbedring_chassis.auth import TokenVerifier
from forbedring_chassis.clock import Clock, SystemClock
from forbedring_chassis.runtime import Runtime, create_service_app
from forbedring_chassis.web import Pages
from forbedring_publication import admin_pages, pages
from forbedring_publication.api import me_router, router
from forbedring_publication.cache import ReportCache
from forbedring_publication.consumers import consumers
from forbedring_publication.scheduler import Scheduler
from forbedring_publication.settings import PublicationSettings


def create_app(
    settings: PublicationSettings | None = None,
    *,
    clock: Clock | None = None,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    """The publication service. `clock` and `verifier` are for tests (defaults: the system
    clock; the configured OIDC issuer, plus the development issuer when enabled)."""
    settings = settings or PublicationSettings()
    the_clock: Clock = clock or SystemClock()

    def cache_of(runtime: Runtime) -> ReportCache:
        return ReportCache(
            redis=runtime.redis,
            namespace=f"{settings.kafka_topic_prefix}forbedring:publication:",
            ttl_s=settings.cache_ttl_s,
            lock_ttl_s=settings.cache_lock_ttl_s,
            wait_s=settings.cache_wait_s,
        )

    async def run_scheduler(runtime: Runtime) -> None:
        await scheduler_of(runtime).run()

    def scheduler_of(runtime: Runtime) -> Scheduler:
        return Scheduler(
            sessions=runtime.sessions,
            clock=the_clock,
            cache=app.state.report_cache,
            interval_s=settings.scheduler_interval_s,
            wake=runtime.relay.wake,
        )

    app = create_service_app(
        settings=settings,
        package="forbedring_publication",
        pages=Pages.for_package("forbedring_publication"),
        verifier=verifier,
        routers=[router, me_router, pages.router, admin_pages.router],
        consumes=consumers(settings, the_clock),
        background=[run_scheduler] if settings.scheduler_enabled else [],
        clock=the_clock,
    )
    runtime: Runtime = app.state.runtime
    app.state.report_cache = cache_of(runtime)
    app.state.scheduler = scheduler_of(runtime)
    return app
