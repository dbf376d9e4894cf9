"""The walking skeleton on the real broker and databases: an answer submitted to survey is
counted once by aggregation, whatever the broker or the consumer process does."""

import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from forbedring_aggregation import testing as synth
from forbedring_chassis import wire
from forbedring_chassis.faults import CRASH_ENV
from forbedring_chassis.testing import (
    Databases,
    Infrastructure,
    eventually,
    signed_in_as,
    unique_name,
)
from forbedring_contracts import topics
from forbedring_contracts.events import ResponseSubmitted
from forbedring_survey.testing import HR_ADMIN, people_of, small_organisation
from tests.conftest import Stack

ANSWERS: dict[str, Any] = {"q01": 4, "q02": 5}


def a_response(period_id: str, unit_id: str) -> ResponseSubmitted:
    return ResponseSubmitted(
        response_id=uuid.uuid4(),
        period_id=period_id,
        unit_id=unit_id,
        questionnaire_version="2026.1",
        answers=ANSWERS,
    )


async def count(client: httpx.AsyncClient, period_id: str, unit_id: str) -> int:
    reply = await client.get(f"/api/v1/periods/{period_id}/units/{unit_id}")
    if reply.status_code == 403:
        return 0  # the directory naming the HR admin is not applied yet
    reply.raise_for_status()
    respondents: int = reply.json()["respondents"]
    return respondents


async def hr_may_read(infrastructure: Infrastructure, prefix: str, period: str, unit: str) -> None:
    """The period's directory, naming the HR admin the test reads the counts as (a period
    made of bare response events has no survey to send it)."""
    directory = synth.hr_directory(period, [(unit, None)], hr_admin=HR_ADMIN)
    await produce(infrastructure, prefix + topics.DIRECTORY_UPDATED, wire.encode(directory))


async def produce(
    infrastructure: Infrastructure,
    topic: str,
    *records: wire.Record | tuple[bytes, list[tuple[str, bytes]]],
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await producer.start()
    try:
        for record in records:
            if isinstance(record, wire.Record):
                headers = [(k, v.encode()) for k, v in record.headers.items()]
                await producer.send_and_wait(topic, record.value, key=record.key, headers=headers)
            else:
                value, headers = record
                await producer.send_and_wait(topic, value, key=b"bad", headers=headers)
    finally:
        await producer.stop()


async def test_answers_submitted_to_survey_are_counted_by_aggregation(stack: Stack) -> None:
    # Responses leave survey in shuffled groups of at least k per unit: with k = 3, three
    # answers in one unit are released together and counted.
    api = stack.survey_api
    organisation = small_organisation({"unit-a": 3})
    period = await api.open_period(organisation, k=3)
    for person in people_of(organisation, "unit-a"):
        await api.answer(person)

    async def three_counted() -> bool:
        return await count(stack.aggregation, period, "unit-a") == 3

    await eventually(three_counted)


async def test_the_same_event_delivered_twice_is_counted_once(
    stack: Stack, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    period, unit = unique_name("period"), "unit-b"
    duplicated = wire.encode(a_response(period, unit))
    marker = wire.encode(a_response(period, unit))
    topic = topic_prefix + topics.RESPONSE_SUBMITTED
    await hr_may_read(infrastructure, topic_prefix, period, unit)
    # Same key, so all three share a partition and arrive in this order.
    await produce(infrastructure, topic, duplicated, duplicated, marker)

    async def marker_counted() -> bool:
        return await count(stack.aggregation, period, unit) >= 2

    await eventually(marker_counted)
    assert await count(stack.aggregation, period, unit) == 2


async def test_a_malformed_message_is_dead_lettered_and_the_next_one_counted(
    stack: Stack, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    period, unit = unique_name("period"), "unit-c"
    topic = topic_prefix + topics.RESPONSE_SUBMITTED
    good = wire.encode(a_response(period, unit))
    malformed_headers = [(k, v.encode()) for k, v in good.headers.items()]
    malformed = (b'{"response_id": "not json', malformed_headers)
    await hr_may_read(infrastructure, topic_prefix, period, unit)
    await produce(infrastructure, topic, malformed, good)

    async def good_counted() -> bool:
        return await count(stack.aggregation, period, unit) == 1

    await eventually(good_counted)

    dead_letters = AIOKafkaConsumer(
        topic_prefix + "forbedring.aggregation.dead-letter.v1",
        bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=unique_name("dlt-reader"),
    )
    await dead_letters.start()
    try:
        found: list[dict[str, str]] = []

        async def dead_letter_arrived() -> bool:
            batch = await dead_letters.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.value == malformed[0]:
                        found.append({k: v.decode() for k, v in record.headers})
            return bool(found)

        await eventually(dead_letter_arrived)
    finally:
        await dead_letters.stop()
    headers = found[0]
    assert "invalid" in headers["dlt_error"].lower()
    assert headers["dlt_original_topic"] == topic
    assert headers["dlt_consumer_group"] == stack.aggregation_settings.group_id


async def test_a_consumer_killed_after_its_db_commit_but_before_its_offset_commit_counts_once(
    launch_service: Any,
    databases: Databases,
    infrastructure: Infrastructure,
    private_topic_prefix: str,
) -> None:
    period, unit = unique_name("period"), "unit-d"
    topic = private_topic_prefix + topics.RESPONSE_SUBMITTED
    database_url = await databases.create("aggregation")
    group = unique_name("aggregation")

    first = await launch_service(
        "aggregation",
        database_url=database_url,
        consumer_group=group,
        extra_env={CRASH_ENV: "after-db-commit"},
        topics=private_topic_prefix,
    )
    event = wire.encode(a_response(period, unit))
    await produce(infrastructure, topic, event)
    # The process dies the moment its transaction has committed, before the offset commit.
    assert first.exit_code(timeout=60) == 137

    second = await launch_service(
        "aggregation", database_url=database_url, consumer_group=group, topics=private_topic_prefix
    )
    await produce(infrastructure, topic, wire.encode(a_response(period, unit)))
    await hr_may_read(infrastructure, private_topic_prefix, period, unit)
    async with httpx.AsyncClient(base_url=second.url, headers=signed_in_as(HR_ADMIN)) as client:

        async def second_counted() -> bool:
            return await count(client, period, unit) >= 2

        await eventually(second_counted)
        # The first event came again after the restart (its offset was never committed) and,
        # being on the same partition, before the second: a double count would show 3 here.
        assert await count(client, period, unit) == 2
