from fastapi import FastAPI

from forbedring_chassis.runtime import create_service_app
from forbedring_survey.api import router
from forbedring_survey.settings import SurveySettings


def create_app(settings: SurveySettings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or SurveySettings(),
        package="forbedring_survey",
        routers=[router],
    )
