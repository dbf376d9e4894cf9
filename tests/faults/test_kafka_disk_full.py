"""Disk full under the broker while people answer: the broker's log directory is a small
tmpfs, and a filler file takes its last byte. The broker cannot write, takes the directory
offline and, with its only one gone, shuts itself down (Kafka's own rule, as on a real
disk). survey accepts every answer all along, since the outbox holds the events; the relay
neither spins nor dies: its pass waits on the producer, which retries at its backoff, and a
pass that fails waits for the poll interval or the next commit. The filler removed and
the broker started again, the same relay delivers the backlog and aggregation, never
restarted, counts exactly what survey accepted, per unit."""

import asyncio
import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from structlog.testing import capture_logs

from forbedring_chassis.settings import ServiceSettings
from forbedring_chassis.testing import REPO_ROOT, Databases, Infrastructure, eventually
from forbedring_chassis.topic_admin import TopicSpec, apply_topics, load_topics
from forbedring_survey.testing import small_organisation
from tests.conftest import running_stack
from tests.faults.conftest import SHARED_STATE, PrivateSet
from tests.faults.outcomes import record_outcome
from tests.faults.reconcile import Answering, close_and_reconcile

UNITS = {"unit-a": 9, "unit-b": 7, "unit-c": 5}
FULL_S = 20  # the middle third of the answers spread over this long, the disk full
DISK_MB = 64
# A broker of its own (infra.sh's Kafka under another state directory, on other ports):
# its whole data directory on the tmpfs, so the private set's broker keeps its own disk.
DISK_STATE = SHARED_STATE / "faults-disk"
DISK_PORTS = {"FORBEDRING_KAFKA_PORT": "59292", "FORBEDRING_KAFKA_CONTROLLER_PORT": "59293"}
SCRATCH = "disk-full-scratch"  # the test's own topic, for the record that needs new pages
FAILED_DIR = "Stopping serving logs in dir"  # the broker's log line for a failed log dir
pytestmark = pytest.mark.timeout(600)  # two broker starts under a load average of 20


@dataclass
class SmallDisk:
    broker: PrivateSet  # only its `kafka` is started and stopped
    data: Path
    topic_prefix: str

    @property
    def _log(self) -> Path:
        return DISK_STATE / "kafka" / "logs" / "server.log"

    def fill(self) -> Path:
        """Write zeros until the filesystem refuses a single byte more."""
        filler = self.data / "filler"
        with filler.open("wb", buffering=0) as out:  # unbuffered: nothing left to flush
            for chunk in (1 << 20, 4096, 1):
                try:
                    while True:
                        out.write(b"\0" * chunk)
                except OSError:
                    pass
        return filler

    def free_and_restart(self) -> None:
        """Remove the filler, then stop and start the broker: one with its log directory
        offline needs a restart to take it back."""
        (self.data / "filler").unlink(missing_ok=True)
        self.broker.stop("kafka")
        self.broker.start("kafka")

    def broker_running(self) -> bool:
        pid = (DISK_STATE / "kafka" / "kafka.pid").read_text().strip()
        try:
            os.kill(int(pid), 0)
        except (OSError, ValueError):
            return False
        return True

    async def write_past_the_slack(self) -> None:
        """Send one record larger than the slack a full tmpfs leaves: the broker appends into
        pages its segment files already hold, so small records (the survey's events, the
        metadata log's heartbeats) can go on fitting for a while; this one cannot."""
        if await self.log_dir_failed():
            return  # the survey's own events took the last pages
        producer = AIOKafkaProducer(
            bootstrap_servers=self.broker.infrastructure.kafka_bootstrap_servers,
            request_timeout_ms=5_000,
        )
        try:
            async with asyncio.timeout(15):
                await producer.start()
                await producer.send_and_wait(f"{self.topic_prefix}{SCRATCH}", b"\0" * (512 << 10))
        except (KafkaError, TimeoutError):
            pass  # refused, unanswered or already gone: the broker met the full disk
        finally:
            with contextlib.suppress(KafkaError, TimeoutError):
                async with asyncio.timeout(10):
                    await producer.stop()

    async def log_dir_failed(self) -> bool:
        return FAILED_DIR in self._log.read_text(errors="replace")


def _mount(data: Path) -> None:
    if os.path.ismount(data):  # left by a run that was killed
        subprocess.run(["umount", str(data)], check=True)
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(data)], check=True
    )


@pytest.fixture
async def small_disk(private_set: PrivateSet) -> AsyncIterator[SmallDisk]:
    """A broker whose log directory is a fresh tmpfs of DISK_MB, with every topic under a
    prefix; stopped and the tmpfs unmounted after the test, whatever happened."""
    port = DISK_PORTS["FORBEDRING_KAFKA_PORT"]
    broker = PrivateSet(
        Infrastructure(
            kafka_bootstrap_servers=f"127.0.0.1:{port}",
            database_url=private_set.infrastructure.database_url,
            redis_url=private_set.infrastructure.redis_url,
        ),
        {**private_set.environment, "FORBEDRING_STATE_DIR": str(DISK_STATE), **DISK_PORTS},
    )
    data = DISK_STATE / "kafka" / "data"
    log = DISK_STATE / "kafka" / "logs" / "server.log"
    _mount(data)
    try:
        if log.exists():
            log.unlink()  # this run's lines only (log_dir_failed reads it all)
        await asyncio.to_thread(broker.start, "kafka")
        prefix = f"faults-{uuid.uuid4().hex[:8]}."
        specs = load_topics(REPO_ROOT / "deploy" / "topics.yaml", prefix=prefix)
        specs.append(TopicSpec(f"{prefix}{SCRATCH}", "disk-full nudge", 1, 1, {}))
        await apply_topics(broker.infrastructure.kafka_bootstrap_servers, specs)
        yield SmallDisk(broker, data, prefix)
    finally:
        try:
            await asyncio.to_thread(broker.stop, "kafka")
        finally:
            subprocess.run(["umount", str(data)], check=True)


async def test_a_full_broker_disk_loses_nothing_survey_accepted(
    small_disk: SmallDisk, private_databases: Databases, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_stack(
        small_disk.broker.infrastructure, private_databases, small_disk.topic_prefix
    ) as stack:
        api = stack.survey_api
        organisation = small_organisation(UNITS)
        period = await api.open_period(organisation, k=3, timeout=60)
        answering = await Answering.signed_in(api, organisation, UNITS)
        await answering.third(0)
        caplog.clear()
        try:
            with capture_logs() as logs:
                await asyncio.to_thread(small_disk.fill)
                filled = time.monotonic()
                accepted_while_full = await answering.spread(1, over_s=FULL_S)
                # Small appends may still fit in pages the files hold (CI once waited over
                # 60 s for one that did not); a large record must take new ones.
                await small_disk.write_past_the_slack()
                await eventually(small_disk.log_dir_failed, timeout=60, interval=0.5)
                halted = not small_disk.broker_running()
                full_s = time.monotonic() - filled
                await asyncio.to_thread(small_disk.free_and_restart)
                down_s = time.monotonic() - filled
                failed_passes = sum(1 for e in logs if e["event"] == "outbox.relay.failed")
        except BaseException:
            # Else the stack's shutdown waits on a broker that is gone, until the timeout.
            await asyncio.to_thread(small_disk.free_and_restart)
            raise
        # The producer's own retries inside a pass (aiokafka, every retry_backoff_ms).
        producer_retries = sum(1 for r in caplog.records if r.name == "aiokafka.producer.sender")
        await answering.third(2)
        accepted, refused = answering.accepted, answering.refused
        assert not refused, refused
        counted = await close_and_reconcile(stack, period, accepted, expected=UNITS, timeout=240)
    # The relay's pace while the broker could not take anything: at most one pass per poll
    # interval, plus one per commit that woke it (each answer), never a tight loop.
    poll_s = ServiceSettings.model_fields["outbox_poll_interval_s"].default
    bound = down_s / poll_s + len(answering.thirds[1]) + 1
    assert failed_passes <= bound, (failed_passes, bound)
    # Inside a pass the producer retries every retry_backoff_ms (100 ms), per batch: a
    # few lines a second; a loop without a pause would log thousands.
    assert producer_retries <= 50 * down_s, (producer_retries, down_s)
    record_outcome(
        "kafka-disk-full",
        "survey+aggregation",
        tmpfs_mb=DISK_MB,
        disk_full_s=round(full_s, 1),
        broker_down_s=round(down_s, 1),
        broker_halted=halted,
        relay_failed_passes=failed_passes,
        producer_retries_logged=producer_retries,
        accepted=sum(accepted.values()),
        accepted_while_full=accepted_while_full,
        refused=len(refused),
        counted=sum(counted.values()),
        per_unit={u: {"accepted": accepted[u], "counted": counted[u]} for u in UNITS},
    )
