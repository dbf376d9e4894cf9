"""A poison record on every topic every service consumes (the app's own
`consumed_topics`, so a topic added later is covered): each is dead-lettered with its
error and whence it came, and a good event after it on the same partition is applied
(in the service's inbox, its offset committed, not dead-lettered)."""

import importlib
import uuid

import asyncpg
import pytest
from fastapi import FastAPI

from forbedring_aggregation import testing as synth
from forbedring_chassis import deadletters, wire
from forbedring_chassis.consumer import dead_letter_topic
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    in_process,
    plain_url,
    uncommitted,
    unique_name,
)
from forbedring_contracts import topics
from forbedring_contracts.examples import EXAMPLES
from tests.faults.outcomes import record_outcome
from tests.service_routes import SERVICES, settings_class

POISON = b'{"not": "json'
CONSUMERS = [s for s in SERVICES if s != "survey"]  # survey consumes nothing


def _example_for(topic: str) -> wire.Record:
    return next(wire.encode(e) for e in EXAMPLES if topics.topic_of(e).name == topic)


@pytest.mark.parametrize("service", CONSUMERS)
async def test_a_poison_record_on_every_consumed_topic_is_dead_lettered_and_the_consumer_goes_on(
    service: str,
    infrastructure: Infrastructure,
    databases: Databases,
    private_topic_prefix: str,
) -> None:
    servers = infrastructure.kafka_bootstrap_servers
    database_url = await databases.create(service)
    settings = settings_class(service).model_validate(
        {
            "database_url": database_url,
            **infrastructure.connections(private_topic_prefix),
            "consumer_group": unique_name(service),
            "consumer_retry_backoff_s": 0.05,
        }
    )
    app: FastAPI = importlib.import_module(f"forbedring_{service}.app").create_app(settings)
    consumed: tuple[str, ...] = app.state.consumed_topics
    assert consumed, f"{service} consumes something"
    poison_ids: dict[str, str] = {}
    good_ids: dict[str, str] = {}
    records: list[wire.Record] = []
    for topic in consumed:
        good = _example_for(topic)
        poison_id = str(uuid.uuid4())
        headers = {**good.headers, "ce_id": poison_id}
        # Same key, so the same partition: the good event comes after the poison.
        records.append(wire.Record(topic, good.key, POISON, headers, good.timestamp_ms))
        records.append(good)
        poison_ids[topic] = poison_id
        good_ids[topic] = good.headers["ce_id"]
    dlt = dead_letter_topic(settings)

    async with in_process(app, f"http://{service}"):
        await synth.produce(servers, private_topic_prefix, records)

        async def all_read() -> bool:
            for topic in consumed:
                if await uncommitted(servers, settings.group_id, settings.topic(topic)):
                    return False
            return len(await deadletters.read(servers, dlt)) >= len(consumed)

        await eventually(all_read, timeout=120, interval=0.5)
        letters = await deadletters.read(servers, dlt)

    connection = await asyncpg.connect(plain_url(database_url))
    try:
        applied = {
            row["event_id"]
            for row in await connection.fetch("SELECT event_id FROM processed_events")
        }
    finally:
        await connection.close()

    by_topic = {letter.original_topic: letter for letter in letters}
    assert len(letters) == len(consumed), [letter.summary() for letter in letters]
    for topic in consumed:
        letter = by_topic[settings.topic(topic)]
        assert letter.event_id == poison_ids[topic], letter.summary()
        assert "invalid event" in letter.error, letter.error
        assert letter.consumer_group == settings.group_id
        assert letter.value == POISON
    assert set(good_ids.values()) <= applied, "every good event after a poison was applied"
    record_outcome(
        "poison",
        service,
        topics=list(consumed),
        dead_lettered=len(letters),
        good_applied_after=len(set(good_ids.values()) & applied),
    )


def test_every_consuming_service_is_covered() -> None:
    assert {t.producer for t in topics.TOPICS} >= {"survey"}
    assert set(CONSUMERS) == set(topics.CONSUMING_SERVICES)
