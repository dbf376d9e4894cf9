from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from forbedring_chassis.settings import ServiceSettings


class PublicationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PUBLICATION_", extra="ignore")

    service_name: ClassVar[str] = "publication"

    database_url: str = (
        "postgresql+asyncpg://forbedring:forbedring@127.0.0.1:55432/forbedring_publication"
    )
