"""The topic prefix is deployment configuration: a deployment with a prefix never writes
to an unprefixed topic. survey and aggregation run a whole period (opened, answered,
closed, finalised) under the test's prefix; every event lands on a prefixed topic, and
the end offsets of the unprefixed topics do not move."""

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from forbedring_chassis.testing import Infrastructure, eventually, unique_name
from forbedring_contracts import topics
from forbedring_survey.testing import people_of, small_organisation
from tests.conftest import Stack


async def end_offsets(infrastructure: Infrastructure, names: set[str]) -> dict[str, int]:
    """The sum over partitions of each topic's end offset (0 for a topic not there)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics()) & names
        described = await admin.describe_topics(sorted(existing)) if existing else []
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infrastructure.kafka_bootstrap_servers, group_id=unique_name("offsets")
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions) if partitions else {}
    finally:
        await consumer.stop()
    totals = dict.fromkeys(names, 0)
    for partition, offset in ends.items():
        totals[partition.topic] += offset
    return totals


async def test_a_prefixed_deployment_never_writes_to_an_unprefixed_topic(
    stack: Stack, infrastructure: Infrastructure, topic_prefix: str
) -> None:
    assert topic_prefix, "the test stack runs with a prefix of its own"
    ours = {
        topics.PERIOD_OPENED,
        topics.DIRECTORY_UPDATED,
        topics.RESPONSE_SUBMITTED,
        topics.PARTICIPATION_CHANGED,
        topics.PERIOD_CLOSED,
        topics.UNIT_RESULTS,
        topics.RESULTS_FINALIZED,
    }
    unprefixed_before = await end_offsets(infrastructure, ours)

    api = stack.survey_api
    organisation = small_organisation({"unit-a": 3, "unit-b": 3})
    period = await api.open_period(organisation, k=3)
    for unit in ("unit-a", "unit-b"):
        for person in people_of(organisation, unit):
            await api.answer(person)
    await api.close(period)

    async def finalised() -> bool:
        reply = await stack.aggregation.get(f"/api/v1/periods/{period}/snapshot")
        return bool(reply.status_code == 200)

    await eventually(finalised, timeout=60)
    prefixed = await end_offsets(infrastructure, {topic_prefix + name for name in ours})
    assert all(prefixed[topic_prefix + name] > 0 for name in ours), prefixed
    assert await end_offsets(infrastructure, ours) == unprefixed_before
