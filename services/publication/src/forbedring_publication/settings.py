from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from forbedring_chassis.settings import ServiceSettings


class PublicationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PUBLICATION_", extra="ignore")

    service_name: ClassVar[str] = "publication"

    default_stage_1_delay_s: float = Field(
        default=0, ge=0, description="Finalised to stage 1 when period-opened did not say"
    )
    default_stage_2_delay_s: float = Field(
        default=7 * 24 * 3600, ge=0, description="Stage 1 to stage 2 when period-opened did not say"
    )
    safety_climate_target_percent: float = Field(
        default=80.0,
        ge=0,
        le=100,
        description="The share of units with good safety climate the trust aims for",
    )
    scheduler_enabled: bool = True
    scheduler_interval_s: float = Field(default=5.0, gt=0)
    cache_ttl_s: int = Field(default=3600, ge=1, description="Report data kept in Redis")
    cache_lock_ttl_s: float = Field(
        default=30.0, gt=0, description="How long a computing request holds a key's lock"
    )
    cache_wait_s: float = Field(
        default=10.0, gt=0, description="How long a reader waits for another's computation"
    )
