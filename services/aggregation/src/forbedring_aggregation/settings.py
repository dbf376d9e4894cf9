from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from forbedring_aggregation.domain.snapshot import IndicatorSettings
from forbedring_chassis.settings import ServiceSettings


class AggregationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AGGREGATION_", extra="ignore")

    service_name: ClassVar[str] = "aggregation"

    batch_max_records: int = Field(
        default=20_000,
        ge=1,
        description="events applied per transaction at most. Large batches matter: the "
        "topic is keyed by unit, so a batch from a few partitions touches few units and "
        "each unit's row is written once per batch, however many responses it got",
    )
    slice_records: int = Field(
        default=5_000,
        ge=1,
        description="a batch is decoded and counted a slice at a time, each slice's "
        "statements running in the database while the next slice decodes",
    )
    count_workers: int = Field(
        default=2,
        ge=0,
        description="worker processes that decode and count responses beside the consumer "
        "(one core cannot keep up with a bare Kafka consumer); 0 counts in the consumer's "
        "own process",
    )
    fetch_bytes_per_partition: int = Field(
        default=16 << 20,
        ge=1 << 16,
        description="Kafka max_partition_fetch_bytes. Large, so that a batch is drawn from "
        "one or two partitions (aiokafka drains the fetched partitions in turn) and so "
        "touches the few hundred units keyed to them, not a thousand",
    )
    batch_timeout_ms: int = Field(
        default=100, ge=1, description="how long a batch waits to fill up"
    )
    finalise_interval_s: float = Field(
        default=1.0, gt=0, description="how often pending close requests are checked"
    )
    safety_climate_factor: str = Field(
        default="safety_climate", description="the factor the safety-climate indicators use"
    )
    good_safety_climate_agree_threshold: float = Field(
        default=75.0,
        ge=0,
        le=100,
        description="percent of favourable safety-climate answers for a good safety climate "
        "(the trust's target definition; 004 raised it to 80 from 2023)",
    )
    good_safety_climate_saq_threshold: float = Field(
        default=60.0,
        ge=0,
        le=100,
        description="percent of respondents with a safety-climate score >= 75 (SAQ standard)",
    )

    @property
    def indicators(self) -> IndicatorSettings:
        return IndicatorSettings(
            safety_climate_factor=self.safety_climate_factor,
            agree_threshold=self.good_safety_climate_agree_threshold,
            saq_threshold=self.good_safety_climate_saq_threshold,
        )
