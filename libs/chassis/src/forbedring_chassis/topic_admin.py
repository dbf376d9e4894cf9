"""Make a Kafka cluster's topics match deploy/topics.yaml (the one declarative topic file).

Used by `deploy/local/apply_topics.py` (local scripts, the compose init job) and by the test
fixtures, which apply the same file under a per-run prefix so test runs never share topics.

Creates missing topics, raises partition counts and sets topic configs where the file asks
for them. It never deletes a topic, never shrinks one (Kafka cannot), and only reports a
replication-factor difference. Safe to run again and again; prints what it did.

    uv run python deploy/local/apply_topics.py --bootstrap 127.0.0.1:59092 \
        --file deploy/topics.yaml [--wait 60] [--dry-run]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, KafkaError, for_code

TOPIC_NAME = re.compile(r"^forbedring\.[a-z0-9-]+\.[a-z0-9-]+\.v[0-9]+$")


@dataclass(frozen=True)
class TopicSpec:
    """One topic as declared in the file, with the defaults applied."""

    name: str
    description: str
    partitions: int
    replication_factor: int
    config: dict[str, str]


class TopicFileError(ValueError):
    """The topic file is not what this script understands."""


def _config_value(value: object) -> str:
    # Kafka configs are strings on the wire; YAML gives ints and bools too.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _positive_int(raw: object, what: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise TopicFileError(f"{what} must be a positive integer, got {raw!r}")
    return raw


def _mapping(raw: object, what: str) -> Mapping[str, object]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise TopicFileError(f"{what} must be a mapping, got {type(raw).__name__}")
    return raw


def load_topics(path: Path, *, prefix: str = "") -> list[TopicSpec]:
    """Parse and validate the topic file; `prefix` is prepended to every name."""
    document = _mapping(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
    defaults = _mapping(document.get("defaults"), "defaults")
    default_config = _mapping(defaults.get("config"), "defaults.config")
    raw_topics = document.get("topics")
    if not isinstance(raw_topics, list) or not raw_topics:
        raise TopicFileError(f"{path}: 'topics' must be a non-empty list")

    specs: list[TopicSpec] = []
    seen: set[str] = set()
    for index, raw_topic in enumerate(raw_topics):
        topic = _mapping(raw_topic, f"topics[{index}]")
        name = topic.get("name")
        if not isinstance(name, str) or not TOPIC_NAME.match(name):
            raise TopicFileError(
                f"topics[{index}]: name {name!r} is not forbedring.<service>.<event>.v<N>"
            )
        if name in seen:
            raise TopicFileError(f"topic {name} is declared twice")
        seen.add(name)
        description = topic.get("description")
        if not isinstance(description, str) or not description.strip():
            raise TopicFileError(f"topic {name}: a one-line description is required")
        config = {
            key: _config_value(value)
            for key, value in {
                **default_config,
                **_mapping(topic.get("config"), f"{name}.config"),
            }.items()
        }
        specs.append(
            TopicSpec(
                name=prefix + name,
                description=description.strip(),
                partitions=_positive_int(
                    topic.get("partitions", defaults.get("partitions", 1)), f"{name}.partitions"
                ),
                replication_factor=_positive_int(
                    topic.get("replication_factor", defaults.get("replication_factor", 1)),
                    f"{name}.replication_factor",
                ),
                config=config,
            )
        )
    return specs


def _raise_on_errors(what: str, errors: list[tuple[str, int, str | None]]) -> None:
    # Responses carry (name, error code, message); 0 means success.
    failures = [
        f"{name}: {for_code(code).__name__} {message or ''}".strip()
        for name, code, message in errors
        if code != 0
    ]
    if failures:
        raise KafkaError(f"{what} failed: " + "; ".join(failures))


class TopicApplier:
    """Compares the declared topics with the cluster and closes the gap."""

    def __init__(self, admin: AIOKafkaAdminClient, *, dry_run: bool, quiet: bool = False) -> None:
        self._admin = admin
        self._dry_run = dry_run
        self._quiet = quiet
        self.changes = 0
        self.messages: list[str] = []

    def _say(self, message: str) -> None:
        prefix = "would " if self._dry_run else ""
        self.messages.append(f"{prefix}{message}")
        if not self._quiet:
            print(f"{prefix}{message}", flush=True)

    async def existing_partitions(self) -> dict[str, tuple[int, int]]:
        """Topic name -> (partition count, replication factor) for every topic."""
        described: list[dict[str, Any]] = await self._admin.describe_topics()
        result: dict[str, tuple[int, int]] = {}
        for topic in described:
            partitions: list[dict[str, Any]] = topic["partitions"]
            replicas = len(partitions[0]["replicas"]) if partitions else 0
            result[str(topic["topic"])] = (len(partitions), replicas)
        return result

    async def current_configs(self, names: list[str]) -> dict[str, dict[str, str]]:
        """Topic name -> the configs set on the topic itself (not broker defaults)."""
        if not names:
            return {}
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        responses: list[Any] = await self._admin.describe_configs(resources)
        result: dict[str, dict[str, str]] = {}
        for response in responses:
            for error_code, error_message, _type, name, entries in response.resources:
                if error_code != 0:
                    raise KafkaError(f"describe configs of {name}: {error_message}")
                # DescribeConfigs v1+: (name, value, read_only, source, sensitive, synonyms);
                # source 1 = DYNAMIC_TOPIC_CONFIG, i.e. set on this topic.
                result[str(name)] = {
                    str(entry[0]): str(entry[1]) for entry in entries if entry[3] == 1
                }
        return result

    async def create(self, specs: list[TopicSpec]) -> None:
        if not specs:
            return
        for spec in specs:
            settings = ", ".join(f"{k}={v}" for k, v in sorted(spec.config.items()))
            self._say(f"create {spec.name} (partitions={spec.partitions}, {settings})")
        self.changes += len(specs)
        if self._dry_run:
            return
        response: Any = await self._admin.create_topics(
            [
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.replication_factor,
                    topic_configs=spec.config,
                )
                for spec in specs
            ]
        )
        _raise_on_errors(
            "create topics",
            [(str(e[0]), int(e[1]), e[2] if len(e) > 2 else None) for e in response.topic_errors],
        )

    async def grow(self, spec: TopicSpec, current: int) -> None:
        self._say(f"raise partitions of {spec.name}: {current} -> {spec.partitions}")
        self.changes += 1
        if not self._dry_run:
            await self._admin.create_partitions({spec.name: NewPartitions(spec.partitions)})

    async def reconfigure(self, spec: TopicSpec, current: dict[str, str]) -> None:
        for key in sorted(set(spec.config) | set(current)):
            before, after = current.get(key), spec.config.get(key)
            if before != after:
                self._say(
                    f"set {spec.name} {key}: {before or '(default)'} -> {after or '(default)'}"
                )
        self.changes += 1
        if self._dry_run:
            return
        # AlterConfigs replaces the topic's whole set of overrides: send all of them, so the
        # topic ends up with exactly the declared configs.
        responses: list[Any] = await self._admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, spec.name, dict(spec.config))]
        )
        for response in responses:
            _raise_on_errors(
                "alter configs",
                [(str(r[3]), int(r[0]), r[1]) for r in response.resources],
            )

    async def apply(self, specs: list[TopicSpec]) -> None:
        existing = await self.existing_partitions()
        await self.create([spec for spec in specs if spec.name not in existing])

        present = [spec for spec in specs if spec.name in existing]
        configs = await self.current_configs([spec.name for spec in present])
        for spec in present:
            partitions, replicas = existing[spec.name]
            if partitions < spec.partitions:
                await self.grow(spec, partitions)
            elif partitions > spec.partitions:
                print(
                    f"note: {spec.name} has {partitions} partitions, more than the "
                    f"{spec.partitions} declared; Kafka cannot shrink a topic, left as is",
                    flush=True,
                )
            if replicas != spec.replication_factor:
                print(
                    f"note: {spec.name} has replication factor {replicas}, declared "
                    f"{spec.replication_factor}; not changed by this script",
                    flush=True,
                )
            if configs.get(spec.name, {}) != spec.config:
                await self.reconfigure(spec, configs.get(spec.name, {}))

        declared = {spec.name for spec in specs}
        # Under a prefix (tests) only that prefix's topics are ours to report on.
        ours = specs[0].name[: specs[0].name.find("forbedring.")] if specs else ""
        undeclared = sorted(
            n for n in existing if n.startswith(ours + "forbedring.") and n not in declared
        )
        if undeclared:
            shown = ", ".join(undeclared[:5]) + (", ..." if len(undeclared) > 5 else "")
            count = len(undeclared)
            print(f"note: {count} forbedring.* topic(s) not in the file, left alone: {shown}")


async def connect(bootstrap: str, wait_seconds: float) -> AIOKafkaAdminClient:
    """Start an admin client, retrying until the broker answers a metadata request."""
    deadline = time.monotonic() + wait_seconds
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
        try:
            await admin.start()
            await admin.describe_cluster()  # a real metadata round trip
        except (KafkaConnectionError, KafkaError, OSError) as error:
            await admin.close()
            if time.monotonic() >= deadline:
                raise KafkaConnectionError(
                    f"Kafka at {bootstrap} did not answer a metadata request "
                    f"within {wait_seconds:.0f}s: {error}"
                ) from error
            await asyncio.sleep(1)
        else:
            return admin


async def apply_topics(
    bootstrap: str, specs: list[TopicSpec], *, wait_seconds: float = 0.0
) -> list[str]:
    """Apply `specs` quietly; return what was changed, one line per change."""
    admin = await connect(bootstrap, wait_seconds)
    try:
        applier = TopicApplier(admin, dry_run=False, quiet=True)
        await applier.apply(specs)
    finally:
        await admin.close()
    return applier.messages


async def delete_topics_with_prefix(bootstrap: str, prefix: str) -> int:
    """Delete every topic whose name starts with `prefix` (test teardown); return how many.

    Test fixtures create a private copy of every topic per test; without this a long test
    run leaves thousands of partitions behind and the broker runs out of file handles.
    """
    if not prefix:
        raise ValueError("refusing to delete topics without a prefix")
    admin = await connect(bootstrap, 0.0)
    try:
        existing = await TopicApplier(admin, dry_run=False, quiet=True).existing_partitions()
        doomed = sorted(name for name in existing if name.startswith(prefix))
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
    return len(doomed)


async def run(args: argparse.Namespace) -> int:
    specs = load_topics(Path(args.file), prefix=args.prefix)
    admin = await connect(args.bootstrap, args.wait)
    try:
        applier = TopicApplier(admin, dry_run=args.dry_run)
        await applier.apply(specs)
    finally:
        await admin.close()
    verb = "would change" if args.dry_run else "changed"
    print(f"topics: {len(specs)} declared, {applier.changes} {verb}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bootstrap", required=True, help="host:port[,host:port...]")
    parser.add_argument("--file", default="deploy/topics.yaml", help="the topic file")
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="seconds to keep retrying until the broker answers (default: no retry)",
    )
    parser.add_argument("--dry-run", action="store_true", help="only print what would change")
    parser.add_argument(
        "--prefix",
        default="",
        help="prepended to every topic name (a second stack beside the first)",
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except TopicFileError as error:
        print(f"apply_topics: invalid topic file: {error}", file=sys.stderr)
        return 2
    except KafkaError as error:
        print(f"apply_topics: {error}", file=sys.stderr)
        return 1
