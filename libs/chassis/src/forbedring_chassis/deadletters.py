"""Look at a service's dead-letter topic and send its events again, once the cause is fixed.

    python -m forbedring_chassis.deadletters list   --service aggregation
    python -m forbedring_chassis.deadletters show   --service aggregation --at 3:17
    python -m forbedring_chassis.deadletters replay --service aggregation [--dry-run]

A consumer that gives up on a record sends it, as it came (key, value, headers), to
`forbedring.<service>.dead-letter.v1` with headers saying why and whence (`dlt_*`, see
`consumer.policy`). `replay` publishes each one to the topic it came from with its own key
and headers (the `dlt_*` ones left off), and commits, per dead letter, the offset of the
tool's consumer group (`forbedring-deadletters-replay` unless `--group`): a second replay
sends only what was dead-lettered since. An event sent again that a consumer had applied
after all is skipped by that consumer's inbox, so a replay never applies anything twice;
every group reading the original topic sees it again and skips it the same way.
"""

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

DEFAULT_GROUP = "forbedring-deadletters-replay"
DLT_PREFIX = "dlt_"


def dead_letter_topic_of(service: str, *, topic_prefix: str = "") -> str:
    return f"{topic_prefix}forbedring.{service}.dead-letter.v1"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    """The record's own headers, without the dead-letter ones."""
    error: str
    original_topic: str
    original_partition: int
    original_offset: int
    consumer_group: str

    @classmethod
    def of(cls, record: ConsumerRecord) -> "DeadLetter":
        every = {name: value.decode(errors="replace") for name, value in record.headers or ()}
        return cls(
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value or b"",
            headers={k: v for k, v in every.items() if not k.startswith(DLT_PREFIX)},
            error=every.get("dlt_error", ""),
            original_topic=every.get("dlt_original_topic", ""),
            original_partition=int(every.get("dlt_original_partition", "-1")),
            original_offset=int(every.get("dlt_original_offset", "-1")),
            consumer_group=every.get("dlt_consumer_group", ""),
        )

    @property
    def at(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def event_id(self) -> str:
        return self.headers.get("ce_id", "")

    @property
    def event_type(self) -> str:
        return self.headers.get("ce_type", "")

    def summary(self) -> str:
        return (
            f"{self.at}\t{self.original_topic}[{self.original_partition}]@{self.original_offset}"
            f"\t{self.event_type}\t{self.event_id}\t{self.error[:120]}"
        )

    def as_json(self) -> dict[str, object]:
        return {
            "at": self.at,
            "original_topic": self.original_topic,
            "original_partition": self.original_partition,
            "original_offset": self.original_offset,
            "consumer_group": self.consumer_group,
            "error": self.error,
            "key": self.key.decode(errors="replace") if self.key is not None else None,
            "headers": self.headers,
            "value": self.value.decode(errors="replace"),
        }


async def _partitions(servers: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [p["partition"] for d in described if not d["error_code"] for p in d["partitions"]]
    if not partitions:
        raise SystemExit(f"no topic {topic}")
    return [TopicPartition(topic, p) for p in sorted(partitions)]


async def _read(
    consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition], *, from_committed: bool
) -> list[ConsumerRecord]:
    """Every record of `partitions` from the start (or the group's committed offset) to
    the end they have now."""
    consumer.assign(list(partitions))
    ends = await consumer.end_offsets(list(partitions))
    starts = await consumer.beginning_offsets(list(partitions))
    for tp in partitions:
        committed = await consumer.committed(tp) if from_committed else None
        consumer.seek(tp, max(committed or 0, starts[tp]))
    records: list[ConsumerRecord] = []
    left = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
    while left:
        fetched = await consumer.getmany(*left, timeout_ms=1000)
        for tp, batch in fetched.items():
            records.extend(r for r in batch if r.offset < ends[tp])
        left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
    return records


async def read(servers: str, topic: str) -> list[DeadLetter]:
    """Every dead letter now on `topic`, in partition and offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        records = await _read(consumer, await _partitions(servers, topic), from_committed=False)
    finally:
        await consumer.stop()
    return sorted((DeadLetter.of(r) for r in records), key=lambda d: (d.partition, d.offset))


@dataclass(frozen=True)
class Replayed:
    sent: list[DeadLetter]


async def replay(
    servers: str, topic: str, *, group: str = DEFAULT_GROUP, dry_run: bool = False
) -> Replayed:
    """Send every dead letter past `group`'s committed offsets back to its original topic;
    commit past each one once the broker has it (with `dry_run`, only say what would go)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=group, enable_auto_commit=False)
    producer = AIOKafkaProducer(
        bootstrap_servers=servers,
        enable_idempotence=True,
        acks="all",
        max_request_size=10 << 20,  # as the services' producers (directory-updated is large)
    )
    await consumer.start()
    await producer.start()
    sent: list[DeadLetter] = []
    try:
        partitions = await _partitions(servers, topic)
        for record in await _read(consumer, partitions, from_committed=True):
            letter = DeadLetter.of(record)
            if not letter.original_topic:
                print(f"skipped {letter.at}: no dlt_original_topic header", file=sys.stderr)
            elif not dry_run:
                await producer.send_and_wait(
                    letter.original_topic,
                    letter.value,
                    key=letter.key,
                    headers=[(k, v.encode()) for k, v in letter.headers.items()],
                )
            if not dry_run:
                tp = TopicPartition(record.topic, record.partition)
                await consumer.commit({tp: record.offset + 1})
            if letter.original_topic:
                sent.append(letter)
    finally:
        await producer.stop()
        await consumer.stop()
    return Replayed(sent)


def _topic(args: argparse.Namespace) -> str:
    if args.topic:
        return str(args.topic)
    if args.service:
        return dead_letter_topic_of(args.service, topic_prefix=args.topic_prefix)
    raise SystemExit("name the dead-letter topic: --topic, or --service (and --topic-prefix)")


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m forbedring_chassis.deadletters", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=["list", "show", "replay"])
    parser.add_argument("--topic", help="the dead-letter topic, in full")
    parser.add_argument("--service", help="the service whose dead-letter topic to read")
    parser.add_argument("--topic-prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092"),
    )
    parser.add_argument("--at", help="show: the dead letter's partition:offset (as listed)")
    parser.add_argument("--group", default=DEFAULT_GROUP, help="replay: the tool's group")
    parser.add_argument("--dry-run", action="store_true", help="replay: only list what would go")
    parser.add_argument("--json", action="store_true", help="list: one JSON object a line")
    args = parser.parse_args(argv)
    topic = _topic(args)
    servers = args.bootstrap_servers
    if args.command == "list":
        for letter in await read(servers, topic):
            print(json.dumps(letter.as_json()) if args.json else letter.summary())
        return 0
    if args.command == "show":
        if not args.at:
            raise SystemExit("show needs --at partition:offset")
        found = [d for d in await read(servers, topic) if d.at == args.at]
        if not found:
            print(f"no dead letter at {args.at} on {topic}", file=sys.stderr)
            return 1
        print(json.dumps(found[0].as_json(), indent=2))
        return 0
    result = await replay(servers, topic, group=args.group, dry_run=args.dry_run)
    for letter in result.sent:
        print(("would send " if args.dry_run else "sent ") + letter.summary())
    print(f"{'would replay' if args.dry_run else 'replayed'} {len(result.sent)} from {topic}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
