"""Aggregation's real output feeds publication on the real broker: publication accepts the
snapshot (same count, same checksum over the bytes aggregation published), releases stage
1 once, and serves suppressed units with a reason and the including unit, never a number
of their own; a hidden unit's roll-up as aggregation computed it (publication's check
that it is the sum of the published cells accepts aggregation's real sums)."""

import json
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forbedring_aggregation import testing as synth
from forbedring_aggregation.app import create_app as create_aggregation
from forbedring_aggregation.settings import AggregationSettings
from forbedring_chassis.clock import SettableClock
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    in_process,
    issuer_for_tests,
    unique_name,
    verifier_for_tests,
)
from forbedring_contracts.events import DirectoryUpdated, RoleAssignment, Unit
from forbedring_publication.app import create_app as create_publication
from forbedring_publication.scheduler import Scheduler
from forbedring_publication.settings import PublicationSettings

ISSUER = issuer_for_tests()
PER_UNIT = {"HF-L0": 12, "HF-L1": 9, "HF-L2": 3, "HF-L3": 8, "HF-L4": 2, "HF-L5": 10}


def bearer(person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER.issue(person)}"}


@dataclass
class Released:
    """Aggregation's snapshot of a period, accepted by publication and released to stage 1."""

    pub: httpx.AsyncClient
    period: str
    scheduler: Scheduler
    clock: SettableClock

    @property
    def base(self) -> str:
        return f"/api/v1/periods/{self.period}"

    async def release_stage_1(self) -> None:
        self.clock.advance(timedelta(days=1, minutes=1))  # the period's stage-1 delay: a day
        released = [(r.period_id, r.stage) for r in await self.scheduler.tick()]
        assert [r for r in released if r[0] == self.period] == [(self.period, 1)]


@asynccontextmanager
async def released_snapshot(
    infrastructure: Infrastructure,
    topic_prefix: str,
    databases: Databases,
    *,
    tree: list[tuple[str, str | None]],
    per_unit: dict[str, int],
    seed: int,
) -> AsyncIterator[Released]:
    """Both services on the real broker: aggregation counts synthetic responses and
    finalises; publication accepts the snapshot. Stage 1 is not released yet."""
    rng = random.Random(seed)
    period = unique_name("period")
    q = synth.questionnaire()
    responses = synth.responses(rng, period, q, per_unit)
    directory = DirectoryUpdated(
        period_id=period,
        units=tuple(Unit(unit_id=u, parent_id=p, name=f"Unit {u}", level="3") for u, p in tree),
        roles=(
            RoleAssignment(
                person_id="E-LEAD",
                unit_id=next(iter(per_unit)),
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
        verifier=verifier_for_tests(),
    )
    base = f"/api/v1/periods/{period}"
    async with in_process(aggregation, "http://agg"), in_process(publication, "http://pub") as pub:
        await synth.produce(
            infrastructure.kafka_bootstrap_servers,
            topic_prefix,
            synth.encoded(
                [
                    synth.period_opened(period, tree, q),
                    directory,
                    *responses,
                    synth.period_closed(period, per_unit),
                ]
            ),
        )

        async def finalised() -> bool:
            reply = await pub.get(f"{base}/schedule", headers=bearer("E-LEAD"))
            return reply.status_code == 200 and reply.json()["finalised"] is True

        await eventually(finalised, timeout=90)
        yield Released(pub, period, publication.state.scheduler, clock)


@pytest.mark.infra
async def test_publication_serves_what_aggregation_finalised(
    infrastructure: Infrastructure, topic_prefix: str, databases: Databases
) -> None:
    tree = synth.unit_tree(6, fan_out=3)
    async with released_snapshot(
        infrastructure, topic_prefix, databases, tree=tree, per_unit=PER_UNIT, seed=11
    ) as released:
        pub, base = released.pub, released.base
        before = await pub.get(f"{base}/units", headers=bearer("E-LEAD"))
        assert before.status_code == 403

        await released.release_stage_1()

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


# HF > HF.0 > L0 (12), L2 (9), L4 (3); HF > HF.1 > L1 (8), L3 (10), L5 (2). The leaves of 3
# and 2 are hidden; so are HF.0 and HF.1 (their remainders, 3 and 2, merge into HF's five),
# each with the roll-up of its two published leaves.
ROLL_UP_TREE = synth.unit_tree(6, fan_out=2)
ROLL_UP_PER_UNIT = {
    "HF.0-L0": 12, "HF.1-L1": 8, "HF.0-L2": 9, "HF.1-L3": 10, "HF.0-L4": 3, "HF.1-L5": 2,
}  # fmt: skip


@pytest.mark.infra
async def test_publication_shows_the_roll_ups_aggregation_computed(
    infrastructure: Infrastructure,
    topic_prefix: str,
    databases: Databases,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with released_snapshot(
        infrastructure,
        topic_prefix,
        databases,
        tree=ROLL_UP_TREE,
        per_unit=ROLL_UP_PER_UNIT,
        seed=12,
    ) as released:
        await released.release_stage_1()
        pub, base = released.pub, released.base
        listed = (await pub.get(f"{base}/units", headers=bearer("E-LEAD"))).json()["units"]
        units = {u["unit_id"]: u for u in listed}
        for clinic, leaves, others in (
            ("HF.0", ["HF.0-L0", "HF.0-L2"], 3),
            ("HF.1", ["HF.1-L1", "HF.1-L3"], 2),
        ):
            covered = sum(ROLL_UP_PER_UNIT[leaf] for leaf in leaves)
            assert units[clinic]["published"] is False
            assert units[clinic]["roll_up"] == {
                "sub_units": 2,
                "respondents": covered,
                "unit_respondents": covered + others,
            }
            reply = await pub.get(
                f"{base}/units/{clinic}/results?lang=en", headers=bearer("E-LEAD")
            )
            body = reply.json()
            assert body["reason"] == "direct_answers_too_few"
            roll_up = body["roll_up"]
            assert roll_up is not None, "publication's check accepts aggregation's roll-up"
            assert [s["unit_id"] for s in roll_up["sub_units"]] == leaves
            assert roll_up["other_respondents_counted_in"]["unit_id"] == "HF"
            assert f"{covered} of its {covered + others} respondents" in roll_up["label"]
            assert any(f["mean"] is not None for f in roll_up["factors"])
            # A leaf compares with its hidden clinic's roll-up, so labelled.
            leaf = (
                await pub.get(f"{base}/units/{leaves[0]}/results?lang=en", headers=bearer("E-LEAD"))
            ).json()
            assert leaf["comparisons"]["parent"]["roll_up"] is True
            page = await pub.get(
                f"/periods/{released.period}/units/{clinic}", headers=bearer("E-LEAD")
            )
            assert page.status_code == 200
            assert 'id="roll-up-label"' in page.text
    assert "publication.roll_up.refused" not in capsys.readouterr().out
