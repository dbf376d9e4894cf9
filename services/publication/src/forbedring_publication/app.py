from fastapi import FastAPI

from forbedring_chassis.runtime import create_service_app
from forbedring_publication.settings import PublicationSettings


def create_app(settings: PublicationSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or PublicationSettings(), package="forbedring_publication"
    )
