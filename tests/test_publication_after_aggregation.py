"""Aggregation's real output feeds publication on the real broker: publication accepts the
snapshot (same count, same checksum over the bytes aggregation published), releases stage
1 once, and serves suppressed units with a reason and the including unit, never a number."""

import json
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from forbedring_aggregation import testing as synth
from forbedring_aggregation.app import create_app as create_aggregation
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.auth import DevelopmentIssuer, TokenVerifier
from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import Databases, Infrastructure, eventually, unique_name
from forbedring_contracts.events import DirectoryUpdated, RoleAssignment, Unit
from forbedring_publication.app import create_app as create_publication
from forbedring_publication.scheduler import Scheduler
from forbedring_publication.settings import PublicationSettings

ISSUER = DevelopmentIssuer(issuer="https://issuer.test", audience="forbedring")
PER_UNIT = {"HF-L0": 12, "HF-L1": 9, "HF-L2": 3, "HF-L3": 8, "HF-L4": 2, "HF-L5": 10}


@asynccontextmanager
async def running(app: FastAPI, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def bearer(person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER.issue(person)}"}


@pytest.mark.infra
async def test_publication_serves_what_aggregation_finalised(
    infrastructure: Infrastructure, topic_prefix: str, databases: Databases
) -> None:
    rng = random.Random(11)
    period = unique_name("period")
    q = synth.questionnaire()
    tree = synth.unit_tree(6, fan_out=3)
    responses = synth.responses(rng, period, q, PER_UNIT)
    directory = DirectoryUpdated(
        period_id=period,
        units=tuple(Unit(unit_id=u, parent_id=p, name=f"Unit {u}", level="3") for u, p in tree),
        roles=(
            RoleAssignment(
                person_id="E-LEAD",
                unit_id="HF-L0",
                role="leader",
                name="Leder",
                email="leder@example.org",
                language="nb",
            ),
        ),
    )
    common: dict[str, Any] = {
        "kafka_bootstrap_servers": infrastructure.kafka_bootstrap_servers,
        "kafka_topic_prefix": topic_prefix,
        "redis_url": infrastructure.redis_url,
    }
    aggregation = create_aggregation(
        AggregationSettings(
            database_url=await databases.create("aggregation"),
            consumer_group=unique_name("aggregation"),
            finalise_interval_s=0.5,
            **common,
        )
    )
    clock = SettableClock(datetime.now(UTC))
    publication = create_publication(
        PublicationSettings(
            database_url=await databases.create("publication"),
            consumer_group=unique_name("publication"),
            scheduler_enabled=False,
            **common,
        ),
        clock=clock,
        verifier=TokenVerifier(issuers={ISSUER.issuer: ISSUER.keys()}, audience="forbedring"),
    )
    base = f"/api/v1/periods/{period}"
    async with running(aggregation, "http://agg"), running(publication, "http://pub") as pub:
        await synth.produce(
            infrastructure.kafka_bootstrap_servers,
            topic_prefix,
            synth.encoded(
                [
                    synth.period_opened(period, tree, q),
                    directory,
                    *responses,
                    synth.period_closed(period, PER_UNIT),
                ]
            ),
        )

        async def finalised() -> bool:
            reply = await pub.get(f"{base}/schedule", headers=bearer("E-LEAD"))
            return reply.status_code == 200 and reply.json()["finalised"] is True

        await eventually(finalised, timeout=90)
        before = await pub.get(f"{base}/units", headers=bearer("E-LEAD"))
        assert before.status_code == 403

        scheduler: Scheduler = publication.state.scheduler
        clock.advance(timedelta(days=1, minutes=1))  # the period's stage-1 delay is one day
        assert [
            (r.period_id, r.stage) for r in await scheduler.tick() if r.period_id == period
        ] == [(period, 1)]

        listed = await pub.get(f"{base}/units", headers=bearer("E-LEAD"))
        assert listed.status_code == 200
        units = {u["unit_id"]: u for u in listed.json()["units"]}
        assert set(units) == {u for u, _ in tree}
        assert units["HF"]["respondents"] == sum(PER_UNIT.values())
        suppressed = [u for u, body in units.items() if not body["published"]]
        assert "HF-L2" in suppressed
        assert "HF-L4" in suppressed
        for unit in suppressed:
            reply = await pub.get(f"{base}/units/{unit}/results", headers=bearer("E-LEAD"))
            assert reply.status_code == 200
            body = reply.json()
            assert body["published"] is False
            assert body["included_in"]["unit_id"] == "HF"
            free_text = json.dumps(
                {k: body[k] for k in ("reason", "message", "included_in")}, ensure_ascii=False
            )
            assert not re.search(r"\d", free_text.replace("HF", "")), free_text
            assert "respondents" not in units[unit]
        employee = await pub.get(f"{base}/units/HF/results", headers=bearer("E-NOBODY"))
        assert employee.status_code == 403
