"""Cross-service fixtures: run services in-process (ASGI) or as real processes."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from forbedring_aggregation.app import create_app as create_aggregation
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    free_port,
    in_process,
    service_environment,
    signed_in_as,
    unique_name,
    verifier_for_tests,
)
from forbedring_survey.app import create_app as create_survey
from forbedring_survey.settings import SurveySettings
from forbedring_survey.testing import HR_ADMIN, SurveyApi

# The survey as tests run it: development sign-in on, a bootstrap HR admin, a fast scheduler.
SURVEY_TEST_SETTINGS: dict[str, object] = {
    "dev_issuer_enabled": True,
    "hr_admins": [HR_ADMIN],
    "scheduler_interval_s": 0.1,
    "participation_interval_s": 0,
}


@dataclass
class Stack:
    survey: httpx.AsyncClient
    aggregation: httpx.AsyncClient
    aggregation_settings: AggregationSettings

    @property
    def survey_api(self) -> SurveyApi:
        return SurveyApi(self.survey)

    async def count(self, period_id: str, unit_id: str) -> int:
        """A unit's respondents as aggregation's HR admin reads them (0 until known)."""
        reply = await self.aggregation.get(f"/api/v1/periods/{period_id}/units/{unit_id}")
        if reply.status_code in (403, 404):
            return 0  # the directory (or the first response) not applied yet
        reply.raise_for_status()
        respondents: int = reply.json()["respondents"]
        return respondents


@asynccontextmanager
async def running_stack(
    infrastructure: Infrastructure, databases: Databases, topic_prefix: str
) -> AsyncIterator[Stack]:
    """survey and aggregation in this process, on fresh databases and a fresh consumer group;
    the aggregation client is signed in as the organisations' HR admin."""
    survey_settings = SurveySettings(
        database_url=await databases.create("survey"),
        **infrastructure.connections(topic_prefix),
        **SURVEY_TEST_SETTINGS,  # type: ignore[arg-type]
    )
    aggregation_settings = AggregationSettings(
        database_url=await databases.create("aggregation"),
        **infrastructure.connections(topic_prefix),
        consumer_group=unique_name("aggregation"),
    )
    async with (
        in_process(create_survey(survey_settings), "http://survey") as survey,
        in_process(
            create_aggregation(aggregation_settings, verifier=verifier_for_tests()),
            "http://aggregation",
            # The HR admin of the test organisations reads the counts.
            headers=signed_in_as(HR_ADMIN),
        ) as aggregation,
    ):
        yield Stack(survey, aggregation, aggregation_settings)


@pytest.fixture
async def stack(
    infrastructure: Infrastructure, topic_prefix: str, databases: Databases
) -> AsyncIterator[Stack]:
    async with running_stack(infrastructure, databases, topic_prefix) as running:
        yield running


@dataclass
class ServiceProcess:
    process: subprocess.Popen[bytes]
    url: str

    def exit_code(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


ServiceLauncher = Callable[..., "asyncio.Future[ServiceProcess]"]


@pytest.fixture
async def launch_service(
    infrastructure: Infrastructure, topic_prefix: str
) -> AsyncIterator[Callable[..., object]]:
    """Start a service as its own OS process (`python -m forbedring_<service>`)."""
    started: list[ServiceProcess] = []

    async def launch(
        service: str,
        *,
        database_url: str,
        consumer_group: str | None = None,
        extra_env: dict[str, str] | None = None,
        wait_ready: bool = True,
        topics: str | None = None,
    ) -> ServiceProcess:
        port = free_port()
        env = {
            **os.environ,
            **service_environment(
                service,
                infrastructure=infrastructure,
                database_url=database_url,
                topic_prefix=topic_prefix if topics is None else topics,
                port=port,
                consumer_group=consumer_group,
            ),
            **(survey_environment() if service == "survey" else {}),
            **(extra_env or {}),
        }
        process = subprocess.Popen([sys.executable, "-m", f"forbedring_{service}"], env=env)
        handle = ServiceProcess(process, f"http://127.0.0.1:{port}")
        started.append(handle)
        if wait_ready:
            await wait_until_ready(handle)
        return handle

    yield launch
    for handle in started:
        handle.stop()


def survey_environment() -> dict[str, str]:
    """SURVEY_TEST_SETTINGS as a survey process reads them from its environment."""
    return {
        f"SURVEY_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in SURVEY_TEST_SETTINGS.items()
    }


async def wait_until_ready(handle: ServiceProcess, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            if handle.process.poll() is not None:
                raise AssertionError(f"service exited with {handle.process.returncode}")
            try:
                if (await client.get(f"{handle.url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{handle.url} not ready within {timeout}s")
            await asyncio.sleep(0.2)
