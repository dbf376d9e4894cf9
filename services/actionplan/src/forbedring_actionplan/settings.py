from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from forbedring_chassis.settings import ServiceSettings


class ActionplanSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIONPLAN_", extra="ignore")

    service_name: ClassVar[str] = "actionplan"
