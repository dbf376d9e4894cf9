from fastapi import FastAPI

from forbedring_actionplan.settings import ActionplanSettings
from forbedring_chassis.runtime import create_service_app


def create_app(settings: ActionplanSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or ActionplanSettings(), package="forbedring_actionplan"
    )
