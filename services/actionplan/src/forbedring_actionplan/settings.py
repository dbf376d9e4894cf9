from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from forbedring_chassis.settings import ServiceSettings


class ActionplanSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIONPLAN_", extra="ignore")

    service_name: ClassVar[str] = "actionplan"

    scheduler_enabled: bool = True
    scheduler_interval_s: float = Field(default=60.0, gt=0, description="Reminder checks")
    target_with_plan_percent: float = Field(
        default=100.0, ge=0, le=100, description="Target share of units with a plan"
    )
    target_complete_of_quality_percent: float = Field(
        default=100.0,
        ge=0,
        le=100,
        description="Target share of units with a complete plan of the desired quality",
    )
    target_measures_done_by_deadline_percent: float = Field(
        default=100.0, ge=0, le=100, description="Target share of measures done by their deadline"
    )

    def targets(self) -> dict[str, float]:
        return {
            "with_plan": self.target_with_plan_percent,
            "complete_of_quality": self.target_complete_of_quality_percent,
            "measures_done_by_deadline": self.target_measures_done_by_deadline_percent,
        }
