"""deploy/topics.yaml applied to the real broker: idempotent, grows, never shrinks."""

import uuid
from dataclasses import replace

from aiokafka.admin import AIOKafkaAdminClient

from forbedring_chassis.testing import REPO_ROOT, Infrastructure
from forbedring_chassis.topic_admin import apply_topics, load_topics


def test_the_topic_file_is_read_with_defaults_and_prefix() -> None:
    specs = {s.name: s for s in load_topics(REPO_ROOT / "deploy/topics.yaml", prefix="p.")}
    responses = specs["p.forbedring.survey.response-submitted.v1"]
    assert responses.partitions >= 6, "enough partitions to scale aggregation"
    assert responses.config["cleanup.policy"] == "delete"
    assert all(name.startswith("p.forbedring.") for name in specs)


async def test_applying_twice_changes_nothing_and_more_partitions_are_added(
    infrastructure: Infrastructure,
) -> None:
    prefix = f"admin-{uuid.uuid4().hex[:8]}."
    specs = load_topics(REPO_ROOT / "deploy/topics.yaml", prefix=prefix)[:2]
    first = await apply_topics(infrastructure.kafka_bootstrap_servers, specs)
    assert len([c for c in first if c.startswith("create ")]) == 2
    assert await apply_topics(infrastructure.kafka_bootstrap_servers, specs) == []

    grown = [replace(specs[0], partitions=specs[0].partitions + 2), specs[1]]
    changes = await apply_topics(infrastructure.kafka_bootstrap_servers, grown)
    assert len(changes) == 1
    assert "partitions" in changes[0]
    assert specs[0].name in changes[0]

    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([specs[0].name])
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == specs[0].partitions + 2
