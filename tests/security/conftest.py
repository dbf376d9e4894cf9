"""The security suite's services: all five in this process (ASGI, lifespan run: consumers,
relays and schedulers started) on the real Kafka, PostgreSQL and Redis, each trusting the
test issuer as its development issuer, and one open period the survey has sent to the
others, so that the HR admin, the leader and the employee are who the directory says.

Results are collected per attack or check and written to bench-results/security.json at
the end of the session; `tests/security/render.py` turns them into docs/resilience.md."""

import importlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from forbedring_chassis.testing import (
    ISSUER_FOR_TESTS,
    REPO_ROOT,
    Databases,
    Infrastructure,
    eventually,
    in_process,
    issuer_key_for_tests,
    signed_in_as,
    unique_name,
)
from forbedring_chassis.topic_admin import apply_topics, delete_topics_with_prefix, load_topics
from forbedring_survey.testing import HR_ADMIN, SurveyApi, small_organisation
from tests.conftest import SURVEY_TEST_SETTINGS
from tests.service_routes import SERVICES, settings_class

RESULTS = REPO_ROOT / "bench-results" / "security.json"
LEADER = "e-unit-a-0"
EMPLOYEE = "e-unit-a-1"
# A start (migrations, consumer groups joining) took over a minute at a load average of 17.
STARTUP_S = 240
ROLES = {"hr_admin": HR_ADMIN, "leader": LEADER, "employee": EMPLOYEE, "anonymous": None}


@dataclass
class Service:
    name: str
    app: FastAPI
    client: httpx.AsyncClient


@dataclass
class Stack:
    services: dict[str, Service]
    period_id: str
    unit_id: str


def service_settings(
    name: str,
    database_url: str,
    infrastructure: Infrastructure,
    prefix: str,
    **overrides: Any,
) -> Any:
    """The service's settings on the test infrastructure, its development issuer being the
    test issuer (so `signed_in_as` tokens, and tokens forged with that key, reach it)."""
    return settings_class(name).model_validate(
        {
            "database_url": database_url,
            **infrastructure.connections(prefix),
            "consumer_group": unique_name(name),
            "dev_issuer_enabled": True,
            "dev_issuer_url": ISSUER_FOR_TESTS,
            "dev_issuer_private_key": issuer_key_for_tests(),
            **(SURVEY_TEST_SETTINGS if name == "survey" else {}),
            **overrides,
        }
    )


def organisation() -> dict[str, Any]:
    org = small_organisation({"unit-a": 6, "unit-b": 3})
    org["roles"].append({"employee_id": LEADER, "unit_id": "unit-a", "role": "leader"})
    return org


@pytest.fixture(scope="module")
async def stack(
    infrastructure: Infrastructure, databases: Databases, private_module_prefix: str
) -> AsyncIterator[Stack]:
    async with AsyncExitStack() as started:
        services: dict[str, Service] = {}
        for name in SERVICES:
            settings = service_settings(
                name, await databases.create(name), infrastructure, private_module_prefix
            )
            app: FastAPI = importlib.import_module(f"forbedring_{name}.app").create_app(settings)
            client = await started.enter_async_context(
                in_process(app, f"http://{name}", startup_s=STARTUP_S)
            )
            services[name] = Service(name, app, client)
        survey = SurveyApi(services["survey"].client)
        period = await survey.open_period(organisation())
        await every_service_knows_the_directory(services, period)
        yield Stack(services, period, "unit-a")


async def every_service_knows_the_directory(services: dict[str, Service], period: str) -> None:
    """The survey's directory-updated reached each service: the leader is a leader there.
    Probed through each service's own API, the way people see it."""
    probes = {
        "aggregation": f"/api/v1/periods/{period}/units",
        "publication": f"/api/v1/periods/{period}/schedule",
        "actionplan": "/api/v1/me/plans",
        "notification": "/api/v1/deliveries",
    }
    for name, path in probes.items():
        client = services[name].client

        async def known(client: httpx.AsyncClient = client, path: str = path) -> bool:
            reply = await client.get(path, headers=signed_in_as(HR_ADMIN))
            return reply.status_code == 200

        await eventually(known, timeout=120, interval=0.5)


@pytest.fixture(scope="module")
async def private_module_prefix(infrastructure: Infrastructure) -> AsyncIterator[str]:
    """Every topic of deploy/topics.yaml, under a prefix of this module's own."""
    prefix = f"test-{uuid.uuid4().hex[:8]}."
    servers = infrastructure.kafka_bootstrap_servers
    await apply_topics(servers, load_topics(REPO_ROOT / "deploy" / "topics.yaml", prefix=prefix))
    yield prefix
    await delete_topics_with_prefix(servers, prefix)


# --- results -------------------------------------------------------------------------


@dataclass
class Results:
    """What each check measured, by section: written as JSON at the end of the session."""

    sections: dict[str, list[dict[str, Any]]]

    def record(self, section: str, **entry: Any) -> None:
        self.sections.setdefault(section, []).append(entry)


_RESULTS = Results({})


@pytest.fixture(scope="session")
def results() -> Iterator[Results]:
    yield _RESULTS
    if not _RESULTS.sections:
        return
    previous: dict[str, Any] = {}
    if RESULTS.exists():
        previous = json.loads(RESULTS.read_text()).get("sections", {})
    # A run of part of the suite keeps the other parts' last results.
    merged = {**previous, **_RESULTS.sections}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "sections": merged},
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
