"""The survey service in this process on a fresh database and private topics, with a
settable clock and the scheduler driven by hand (`harness.tick()`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from forbedring_chassis.clock import SettableClock
from forbedring_chassis.runtime import Runtime
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    in_process,
    plain_url,
    settings_for_tests,
    unique_name,
)
from forbedring_contracts import topics
from forbedring_survey.app import create_app
from forbedring_survey.scheduler import Scheduler
from forbedring_survey.settings import SurveySettings
from forbedring_survey.testing import HR_ADMIN, SurveyApi

SURVEY_TOPICS = (
    topics.PERIOD_OPENED,
    topics.DIRECTORY_UPDATED,
    topics.RESPONSE_SUBMITTED,
    topics.PARTICIPATION_CHANGED,
    topics.PERIOD_CLOSED,
)


@dataclass
class Harness:
    api: SurveyApi
    clock: SettableClock
    settings: SurveySettings
    runtime: Runtime
    topic_prefix: str
    infrastructure: Infrastructure

    def scheduler(self) -> Scheduler:
        return Scheduler(
            sessions=self.runtime.sessions,
            clock=self.clock,
            settings=self.settings,
            wake=self.runtime.relay.wake,
        )

    async def tick(self) -> None:
        await self.scheduler().tick()

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(plain_url(self.settings.database_url))
        try:
            rows: list[asyncpg.Record] = await connection.fetch(query, *args)
            return rows
        finally:
            await connection.close()

    async def events(self, *names: str, expect: int, timeout_s: float = 20.0) -> list[Any]:
        """Every record on the survey topics `names` (all when none), from the start,
        once at least `expect` have arrived (or after `timeout_s`)."""
        consumer = AIOKafkaConsumer(
            *(self.topic_prefix + n for n in (names or SURVEY_TOPICS)),
            bootstrap_servers=self.infrastructure.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=unique_name("reader"),
        )
        await consumer.start()
        found: list[Any] = []
        try:
            loops = int(timeout_s / 0.5)
            for _ in range(loops):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(records)
                if len(found) >= expect:
                    # a little longer, to see any surplus
                    for records in (await consumer.getmany(timeout_ms=1000)).values():
                        found.extend(records)
                    break
        finally:
            await consumer.stop()
        return found


@asynccontextmanager
async def started(
    infrastructure: Infrastructure, databases: Databases, topic_prefix: str, **overrides: Any
) -> AsyncIterator[Harness]:
    """The survey in this process on a fresh database; keyword arguments override its
    settings."""
    settings = await settings_for_tests(
        SurveySettings,
        infrastructure=infrastructure,
        databases=databases,
        topic_prefix=topic_prefix,
        dev_issuer_enabled=True,
        hr_admins=[HR_ADMIN],
        scheduler_enabled=False,
        participation_interval_s=0,
        **overrides,
    )
    clock = SettableClock(datetime.now(UTC))
    app = create_app(settings, clock=clock)
    # A generous shutdown: the producer may still be waiting for a fresh topic's leader.
    async with in_process(app, "http://survey", shutdown_s=180) as client:
        yield Harness(
            api=SurveyApi(client),
            clock=clock,
            settings=settings,
            runtime=app.state.runtime,
            topic_prefix=topic_prefix,
            infrastructure=infrastructure,
        )


@pytest.fixture
async def harness(
    infrastructure: Infrastructure, databases: Databases, private_topic_prefix: str
) -> AsyncIterator[Harness]:
    async with started(infrastructure, databases, private_topic_prefix) as running:
        yield running


async def open_period(harness: Harness, organisation: dict[str, Any], **fields: Any) -> str:
    """Create a period opening now on the harness clock, import, tick it open."""
    period = await harness.api.create_period(opens_at=harness.clock.now(), **fields)
    reply = await harness.api.import_json(period["id"], organisation)
    assert reply.status_code == 201, reply.text
    await harness.tick()
    assert (await harness.api.period(period["id"]))["status"] == "open"
    return str(period["id"])
