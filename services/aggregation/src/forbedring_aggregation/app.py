from fastapi import FastAPI

from forbedring_aggregation import pages
from forbedring_aggregation.api import router
from forbedring_aggregation.consumers import consumes, finalise_on_timer
from forbedring_aggregation.counting import RESPONSES_HELD
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.auth import TokenVerifier
from forbedring_chassis.runtime import create_service_app
from forbedring_chassis.web import Pages


def create_app(
    settings: AggregationSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """The aggregation service. `verifier` is for tests (default: the configured OIDC
    issuer, plus the development issuer when enabled)."""
    settings = settings or AggregationSettings()
    app = create_service_app(
        settings=settings,
        package="forbedring_aggregation",
        pages=Pages.for_package("forbedring_aggregation"),
        verifier=verifier,
        routers=[router, pages.router],
        consumes=consumes(settings),
        background=[finalise_on_timer],
        metrics=[RESPONSES_HELD],
    )
    return app
