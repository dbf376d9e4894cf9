"""Apply `deploy/topics.yaml` to a broker: create missing topics, grow partitions, set configs.

Never deletes or shrinks. Used by `deploy/local/apply_topics.py` and by the test fixtures
(which apply the same file under a per-run prefix, so test runs never share topics).
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)


def load_topic_specs(path: Path, *, prefix: str = "") -> list[TopicSpec]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    defaults: dict[str, Any] = document.get("defaults", {})
    specs = []
    for topic in document["topics"]:
        config = {**defaults.get("config", {}), **topic.get("config", {})}
        specs.append(
            TopicSpec(
                name=prefix + topic["name"],
                partitions=int(topic.get("partitions", defaults.get("partitions", 1))),
                replication_factor=int(
                    topic.get("replication_factor", defaults.get("replication_factor", 1))
                ),
                config={k: str(v) for k, v in config.items()},
            )
        )
    return specs


async def apply_topics(bootstrap_servers: str, specs: list[TopicSpec]) -> list[str]:
    """Make the broker match `specs`; return one line per change made."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    changes: list[str] = []
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        name=s.name,
                        num_partitions=s.partitions,
                        replication_factor=s.replication_factor,
                        topic_configs=s.config,
                    )
                    for s in missing
                ]
            )
            changes += [f"created {s.name} ({s.partitions} partitions)" for s in missing]
        present = [s for s in specs if s.name in existing]
        if present:
            described = await admin.describe_topics([s.name for s in present])
            partitions = {t["topic"]: len(t["partitions"]) for t in described}
            grow = {
                s.name: NewPartitions(total_count=s.partitions)
                for s in present
                if partitions.get(s.name, 0) < s.partitions
            }
            if grow:
                await admin.create_partitions(grow)
                changes += [
                    f"grew {name} to {p.total_count} partitions" for name, p in grow.items()
                ]
            await admin.alter_configs(
                [
                    ConfigResource(ConfigResourceType.TOPIC, s.name, configs=s.config)
                    for s in present
                ]
            )
    finally:
        await admin.close()
    return changes
