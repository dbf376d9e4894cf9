from fastapi import FastAPI

from forbedring_aggregation.api import router
from forbedring_aggregation.consumers import consumes, finalise_on_timer
from forbedring_aggregation.service import RESPONSES_HELD
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.runtime import create_service_app


def create_app(settings: AggregationSettings | None = None) -> FastAPI:
    settings = settings or AggregationSettings()
    return create_service_app(
        settings=settings,
        package="forbedring_aggregation",
        routers=[router],
        consumes=consumes(settings),
        background=[finalise_on_timer],
        metrics=[RESPONSES_HELD],
    )
