"""The actionplan service on the real broker, PostgreSQL and Redis, in this process; the
other services' events are produced to the broker the way they send them, and tokens are
signed by a test issuer. A test waits for what it needs (its plans, an empty outbox), it
never sleeps."""

import json
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from forbedring_actionplan.app import create_app
from forbedring_actionplan.scheduler import Scheduler
from forbedring_actionplan.settings import ActionplanSettings
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    InProcessService,
    SendEvents,
    ServiceStarter,
    eventually,
    in_process_starter,
    issuer_for_tests,
    plain_url,
)
from services.actionplan.tests.org import PEOPLE, RELEASED_AT, Org

ISSUER = issuer_for_tests()
ROLES = ("anonymous", *PEOPLE)


def token(role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    return {"Authorization": f"Bearer {ISSUER.issue(PEOPLE[role])}"}


class Actionplan(InProcessService[ActionplanSettings, Scheduler]):
    async def get(self, path: str, role: str) -> httpx.Response:
        return await self.client.get(path, headers=token(role))

    async def send(
        self, method: str, path: str, role: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.client.request(method, path, headers=token(role), json=body)

    async def plan(self, period_id: str, unit_id: str, role: str = "leader") -> dict[str, Any]:
        reply = await self.get(f"/api/v1/periods/{period_id}/units/{unit_id}/plan?lang=en", role)
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    async def wait_for_plans(self, period_id: str) -> None:
        async def opened() -> bool:
            reply = await self.get(f"/api/v1/periods/{period_id}/units/HF/plan", "hr_admin")
            return reply.status_code == 200

        await eventually(opened, timeout=60)

    async def opened_plan(self, produce: SendEvents, org: Org) -> dict[str, Any]:
        """`org`'s events produced and its plans opened: S-PUB's plan, as its leader reads it."""
        await produce(org.events())
        await self.wait_for_plans(org.period_id)
        return await self.plan(org.period_id, "S-PUB")

    async def escalate(
        self,
        plan_id: str,
        measure: dict[str, Any],
        reason: str,
        *,
        role: str = "leader",
        revision: int | None = None,
    ) -> httpx.Response:
        """Lift `measure` of the plan to the unit above, at its own revision unless given."""
        path = f"/api/v1/plans/{plan_id}/measures/{measure['measure_id']}/escalate"
        at = measure["revision"] if revision is None else revision
        return await self.send("POST", path, role, {"reason": reason, "revision": at})

    async def outbox_empty(self) -> None:
        """Every staged event has been published (the relay deletes a row once sent)."""

        async def empty() -> bool:
            connection = await asyncpg.connect(plain_url(self.settings.database_url))
            try:
                return int(await connection.fetchval("SELECT count(*) FROM outbox")) == 0
            finally:
                await connection.close()

        await eventually(empty, timeout=60)


@pytest.fixture
def actionplan(
    infrastructure: Infrastructure, topic_prefix: str, databases: Databases
) -> ServiceStarter[Actionplan]:
    """`async with actionplan() as running`: the service in this process with a settable
    clock; the scheduler runs only when a test calls `tick()`."""
    return in_process_starter(
        Actionplan,
        create_app,
        ActionplanSettings,
        infrastructure=infrastructure,
        databases=databases,
        topic_prefix=topic_prefix,
        clock_at=RELEASED_AT + timedelta(hours=1),
        scheduler_enabled=False,
    )


async def published(
    infrastructure: Infrastructure, prefix: str, topic: str, period_id: str
) -> list[dict[str, Any]]:
    """Every body on `topic` for `period_id`, read to the topic's end offsets (call after
    `outbox_empty`: everything staged is on the broker by then)."""
    name = prefix + topic
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infrastructure.kafka_bootstrap_servers, enable_auto_commit=False
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await admin.start()
    try:
        [described] = await admin.describe_topics([name])
    finally:
        await admin.close()
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        partitions = [TopicPartition(name, p["partition"]) for p in described["partitions"]]
        assert partitions, f"no partitions for {name}"
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                found.extend(json.loads(record.value) for record in batch.get(tp, []))
    finally:
        await consumer.stop()
    return [body for body in found if body.get("period_id") == period_id]
