from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from forbedring_chassis.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: ClassVar[str] = "notification"

    database_url: str = (
        "postgresql+asyncpg://forbedring:forbedring@127.0.0.1:55432/forbedring_notification"
    )
