"""The dead-letter tool on the real broker, run as ops run it (its own process): an event
the consumer could not apply is listed and shown with its error; once the cause is
fixed, a replay sends it back and the consumer applies it exactly once; a second replay
sends nothing; a replay under a new group sends it again and the consumer's inbox skips
it."""

import asyncio
import json
import random
import sys

from forbedring_aggregation import testing as synth
from forbedring_chassis import deadletters
from forbedring_chassis.consumer import dead_letter_topic
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    SendEvents,
    eventually,
    unique_name,
)
from forbedring_contracts import topics
from tests.operations.ledger import running_ledger

Q = synth.questionnaire()


async def _tool(servers: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "forbedring_chassis.deadletters",
        *args,
        "--bootstrap-servers",
        servers,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_a_dead_letter_is_listed_shown_and_replayed_once_the_cause_is_fixed(
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
    send_events: SendEvents,
) -> None:
    servers = infrastructure.kafka_bootstrap_servers
    rng = random.Random(5)
    events = synth.responses(rng, unique_name("period"), Q, {"unit-a": 3, "unit-b": 2})
    poison = events[1]
    async with running_ledger(infrastructure, databases, private_topic_prefix) as ledger:
        ledger.switches.poisoned.add(str(poison.response_id))
        await send_events(events)
        others = sorted(str(e.response_id) for e in events if e is not poison)
        topic = dead_letter_topic(ledger.settings)

        async def the_rest_applied_and_the_poison_dead_lettered() -> bool:
            return sorted(await ledger.applied()) == others and bool(
                await deadletters.read(servers, topic)
            )

        await eventually(the_rest_applied_and_the_poison_dead_lettered, timeout=60)
        [letter] = await deadletters.read(servers, topic)
        assert f"cannot apply {poison.response_id}" in letter.error
        assert letter.original_topic == ledger.settings.topic(topics.RESPONSE_SUBMITTED)

        # list and show, by the service's name and the deployment's prefix.
        by_service = ("--service", "aggregation", "--topic-prefix", private_topic_prefix)
        listed = await _tool(servers, "list", *by_service)
        assert listed.count("\n") == 1, listed
        assert letter.event_id in listed
        shown = json.loads(await _tool(servers, "show", *by_service, "--at", letter.at))
        assert shown["headers"]["ce_id"] == letter.event_id
        assert not any(name.startswith("dlt_") for name in shown["headers"])
        assert str(poison.response_id) in shown["value"]

        # Nothing changes on a dry run; the cause fixed, a replay applies it.
        dry = await _tool(servers, "replay", "--topic", topic, "--dry-run")
        assert "would replay 1" in dry
        ledger.switches.poisoned.clear()
        assert "replayed 1" in await _tool(servers, "replay", "--topic", topic)

        async def poison_applied() -> bool:
            return str(poison.response_id) in await ledger.applied()

        await eventually(poison_applied, timeout=60)
        # The tool's group has committed past it: a second replay sends nothing.
        assert "replayed 0" in await _tool(servers, "replay", "--topic", topic)
        # Replayed under a new group it goes out again; the consumer's inbox skips it.
        again = await _tool(servers, "replay", "--topic", topic, "--group", unique_name("again"))
        assert "replayed 1" in again
        # A marker on the poison's partition (same unit) comes after the replayed copy:
        # once the marker is applied, the copy has been read.
        [marker] = synth.responses(rng, poison.period_id, Q, {poison.unit_id: 1})
        await send_events([marker])

        async def marker_applied() -> bool:
            return str(marker.response_id) in await ledger.applied()

        await eventually(marker_applied, timeout=60)
        applied = await ledger.applied()

    expected = sorted([*others, str(poison.response_id), str(marker.response_id)])
    assert sorted(applied) == expected, "every event applied exactly once"
    # Still the one dead letter: the replays themselves were applied, not dead-lettered.
    assert len(await deadletters.read(servers, topic)) == 1
