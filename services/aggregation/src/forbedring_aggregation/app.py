from fastapi import FastAPI

from forbedring_aggregation import pages
from forbedring_aggregation.api import router
from forbedring_aggregation.consumers import consumes, finalise_on_timer
from forbedring_aggregation.counting import RESPONSES_HELD
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.auth import (
    TokenVerifier,
    build_verifier,
    development_issuer,
    development_issuer_router,
)
from forbedring_chassis.runtime import create_service_app
from forbedring_chassis.web import Pages, install_pages


def create_app(
    settings: AggregationSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """The aggregation service. `verifier` is for tests (default: the configured OIDC
    issuer, plus the development issuer when enabled)."""
    settings = settings or AggregationSettings()
    dev = development_issuer(settings)
    app = create_service_app(
        settings=settings,
        package="forbedring_aggregation",
        routers=[router, pages.router, *([development_issuer_router(dev)] if dev else [])],
        consumes=consumes(settings),
        background=[finalise_on_timer],
        metrics=[RESPONSES_HELD],
    )
    app.state.token_verifier = verifier or build_verifier(settings, development=dev)
    install_pages(app, Pages.for_package("forbedring_aggregation"))
    return app
