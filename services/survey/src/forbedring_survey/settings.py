from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from forbedring_chassis.settings import ServiceSettings


class SurveySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURVEY_", extra="ignore")

    service_name: ClassVar[str] = "survey"

    submission_rate_limit_per_s: int = Field(
        default=1000,
        ge=1,
        description="answers accepted per second, all replicas together (a flood guard; "
        "never per person, which would date a person's answer)",
    )
    organisation_id: str = Field(
        default="default", min_length=1, max_length=64, description="The trust this runs for"
    )
    hr_admins: list[str] = Field(
        default_factory=list,
        description="Employee ids allowed to administer periods before any directory has "
        "been imported (bootstrap); afterwards the directory's hr_admin role decides",
    )
    scheduler_enabled: bool = Field(
        default=True, description="Run the scheduler loop in this process"
    )
    scheduler_interval_s: float = Field(
        default=1.0, gt=0, description="How often the scheduler looks for due work"
    )
    participation_interval_s: float = Field(
        default=60.0,
        ge=0,
        description="Participation-changed events go out at most this often per unit",
    )
