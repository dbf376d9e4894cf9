from fastapi import FastAPI

from forbedring_aggregation import pages
from forbedring_aggregation.api import router
from forbedring_aggregation.consumers import consumes, finalise_on_timer
from forbedring_aggregation.counting import RESPONSES_HELD
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.runtime import create_service_app
from forbedring_chassis.web import Pages, install_pages


def create_app(settings: AggregationSettings | None = None) -> FastAPI:
    settings = settings or AggregationSettings()
    app = create_service_app(
        settings=settings,
        package="forbedring_aggregation",
        routers=[router, pages.router],
        consumes=consumes(settings),
        background=[finalise_on_timer],
        metrics=[RESPONSES_HELD],
    )
    install_pages(app, Pages.for_package("forbedring_aggregation"))
    return app
