from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from forbedring_chassis.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: ClassVar[str] = "notification"
