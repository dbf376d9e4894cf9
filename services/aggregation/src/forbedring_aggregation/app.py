from fastapi import FastAPI

from forbedring_aggregation.api import router
from forbedring_aggregation.consumers import CONSUMES
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.runtime import create_service_app


def create_app(settings: AggregationSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or AggregationSettings(),
        package="forbedring_aggregation",
        routers=[router],
        consumes=CONSUMES,
    )
