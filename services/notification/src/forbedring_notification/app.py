from fastapi import FastAPI

from forbedring_chassis.runtime import create_service_app
from forbedring_notification.settings import NotificationSettings


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or NotificationSettings(), package="forbedring_notification"
    )
