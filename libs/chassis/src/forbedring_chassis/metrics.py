"""What ops watch, measured the same way in every service: the outbox's backlog and the age
of its oldest row, each consumer group's lag per partition, and the schedulers' runs.

Counters are process-wide (`registry=None`, registered in each app's own registry, as the
consumers' are). The backlog and the lag belong to one app (its database, its consumers),
so they are collectors of that app, refreshed by `Monitor` every `metrics_interval_s`: a
scrape never waits for the database or the broker. The names are listed in
`docs/runbook.md`, which says what each one means for ops.
"""

import asyncio
import contextlib
import io
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from prometheus_client import Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from forbedring_chassis.db import Sessions
from forbedring_chassis.logging import get_logger

log = get_logger(__name__)

STOP_WAIT_S = 2.0

SCHEDULER_RUNS = Counter(
    "forbedring_scheduler_runs_total",
    "Runs of a periodic task (a scheduler's tick), by outcome (ok, failed)",
    ["scheduler", "outcome"],
    registry=None,
)
SCHEDULER_LAST_SUCCESS = Gauge(
    "forbedring_scheduler_last_success_timestamp_seconds",
    "When a periodic task last ran without failing (Unix time)",
    ["scheduler"],
    registry=None,
)
SCHEDULER_METRICS = (SCHEDULER_RUNS, SCHEDULER_LAST_SUCCESS)


def scheduler_ran(name: str, *, ok: bool) -> None:
    SCHEDULER_RUNS.labels(name, "ok" if ok else "failed").inc()
    if ok:
        SCHEDULER_LAST_SUCCESS.labels(name).set(time.time())


class OutboxBacklog(Collector):
    """The rows in the outbox not yet published, and how long the oldest has waited.

    The outbox stores no time of staging (a response-submitted row must not be datable,
    see docs/anonymity.md), so the age is what this instance has seen: each measurement
    notes the highest row id then present, and the oldest row's age is the time since the
    first measurement that saw its id. It is exact to one interval, and starts at zero
    when the instance starts."""

    def __init__(self, sessions: Sessions, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self._clock = clock
        self._seen: list[tuple[float, int]] = []  # (when, highest id then), ids rising
        self.pending = 0
        self.oldest_age_s = 0.0

    async def measure(self) -> None:
        async with self._sessions() as session:
            row = (
                await session.exec(text("SELECT count(*), min(id), max(id) FROM outbox"))  # type: ignore[call-overload]
            ).one()
        self.observe(int(row[0]), row[1], row[2])

    def observe(self, pending: int, lowest: int | None, highest: int | None) -> None:
        now = self._clock()
        self.pending = pending
        if lowest is None or highest is None:
            self._seen.clear()
            self.oldest_age_s = 0.0
            return
        if not self._seen or self._seen[-1][1] < highest:
            self._seen.append((now, highest))
        # Forget the measurements whose rows have all been published since.
        while self._seen[0][1] < lowest:
            self._seen.pop(0)
        self.oldest_age_s = now - self._seen[0][0]

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "forbedring_outbox_pending_rows",
            "Outbox rows staged and not yet published",
            value=self.pending,
        )
        yield GaugeMetricFamily(
            "forbedring_outbox_oldest_pending_age_seconds",
            "How long the oldest unpublished outbox row has waited, as this instance saw it",
            value=self.oldest_age_s,
        )


class ConsumerLag(Collector):
    """Per consumer group, topic and partition assigned to this instance: the records past
    the group's committed offset (what KEDA scales on). Each partition is reported by the
    instance it is assigned to; the topic is named without the deployment's prefix.

    Two requests a measurement, whatever the partitions: the end offsets (the consumer's
    own), and the group's committed offsets from an admin client of its own, so that the
    consumer's group coordinator is not asked once per partition."""

    def __init__(self, broker: KafkaBroker, *, topic_prefix: str, servers: str) -> None:
        self._broker = broker
        self._prefix = topic_prefix
        self._servers = servers
        self._admin: AIOKafkaAdminClient | None = None
        self.lag: dict[tuple[str, str, int], int] = {}

    async def measure(self) -> None:
        lag: dict[tuple[str, str, int], int] = {}
        for subscriber in self._broker.subscribers:
            consumer: Any = getattr(subscriber, "consumer", None)
            group = getattr(subscriber, "group_id", None)
            if consumer is None or not group:
                continue
            assigned = list(consumer.assignment())
            if not assigned:
                continue
            ends = await consumer.end_offsets(assigned)
            committed = await self._committed(group, assigned)
            missing = [tp for tp in assigned if committed.get(tp, -1) < 0]
            if missing:  # nothing committed yet: all of it is to read
                committed.update(await consumer.beginning_offsets(missing))
            for tp in assigned:
                topic = tp.topic.removeprefix(self._prefix)
                lag[(group, topic, tp.partition)] = max(0, ends[tp] - committed[tp])
        self.lag = lag

    async def _committed(self, group: str, partitions: list[Any]) -> dict[Any, int]:
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._servers)
            await admin.start()
            self._admin = admin
        try:
            found = await self._admin.list_consumer_group_offsets(group, partitions=partitions)
        except Exception:
            await self.close()  # a new connection next time
            raise
        return {tp: meta.offset for tp, meta in found.items()}

    async def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            with contextlib.suppress(Exception):
                await admin.close()

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "forbedring_consumer_lag",
            "Records past the consumer group's committed offset, per assigned partition",
            labels=["group", "topic", "partition"],
        )
        for (group, topic, partition), value in sorted(self.lag.items()):
            family.add_metric([group, topic, str(partition)], value)
        yield family


class Monitor(Collector):
    """Refreshes the app's collectors every `interval_s`. A measurement that fails (the
    database or the broker gone) is logged once when it starts failing and once when it
    works again, not at every interval, and shows as `forbedring_dependency_reachable`
    0: the outbox's measurement reads the database, the lag's asks the broker (a service
    that consumes nothing asks the broker nothing here: its outbox's age shows Kafka)."""

    DEPENDS_ON: ClassVar[dict[str, str]] = {"OutboxBacklog": "database", "ConsumerLag": "kafka"}

    def __init__(self, parts: Sequence[OutboxBacklog | ConsumerLag], *, interval_s: float) -> None:
        self.parts = tuple(parts)
        self._interval_s = interval_s
        self._failing: set[str] = set()
        self._measured: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "forbedring_dependency_reachable",
            "1 if the last measurement that needs the dependency succeeded, else 0",
            labels=["dependency"],
        )
        for name in sorted(self._measured):
            family.add_metric([self.DEPENDS_ON.get(name, name)], 0 if name in self._failing else 1)
        yield family

    async def measure(self) -> None:
        for part in self.parts:
            name = type(part).__name__
            self._measured.add(name)
            try:
                await asyncio.wait_for(part.measure(), timeout=max(self._interval_s, 5.0))
            except Exception as exc:
                if name not in self._failing:
                    self._failing.add(name)
                    log.warning("metrics.measure_failed", part=name, error=repr(exc))
                continue
            if name in self._failing:
                self._failing.discard(name)
                log.info("metrics.measure_recovered", part=name)

    async def _run(self) -> None:
        while True:
            await self.measure()
            await asyncio.sleep(self._interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="metrics-monitor")

    async def stop(self) -> None:
        """Cancel the refreshing, waiting for it at most STOP_WAIT_S: a measurement cancelled
        inside a Kafka request can go on until that request's own timeout, which must not
        hold up the service's shutdown (its consumers and outbox come after)."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_S)
            if not done:
                stack = io.StringIO()
                task.print_stack(file=stack)
                log.warning(
                    "metrics.monitor.stop_abandoned", waited_s=STOP_WAIT_S, stack=stack.getvalue()
                )
        for part in self.parts:
            if isinstance(part, ConsumerLag):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(STOP_WAIT_S):
                        await part.close()
