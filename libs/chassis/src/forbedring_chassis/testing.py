"""Helpers for tests against the real infrastructure (used by the root conftest)."""

import asyncio
import functools
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypedDict, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from forbedring_chassis.auth import DevelopmentIssuer, TokenVerifier
from forbedring_chassis.clock import SettableClock
from forbedring_chassis.settings import ServiceSettings
from forbedring_chassis.topic_admin import apply_topics, delete_topics_with_prefix, load_topics
from forbedring_contracts import envelope
from forbedring_contracts.events import UnitInScope
from forbedring_contracts.events.base import Event

REPO_ROOT = Path(__file__).resolve().parents[4]
INFRA_SCRIPT = REPO_ROOT / "deploy" / "local" / "infra.sh"


class InfrastructureMissing(RuntimeError):
    pass


class Connections(TypedDict):
    """A service's settings that point it at the test infrastructure."""

    kafka_bootstrap_servers: str
    kafka_topic_prefix: str
    redis_url: str


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap_servers: str
    database_url: str  # an admin URL: tests create their own databases with it
    redis_url: str

    def connections(self, topic_prefix: str) -> Connections:
        """`Settings(database_url=…, **infrastructure.connections(prefix), …)`."""
        return Connections(
            kafka_bootstrap_servers=self.kafka_bootstrap_servers,
            kafka_topic_prefix=topic_prefix,
            redis_url=self.redis_url,
        )


def _from_environment() -> Infrastructure | None:
    names = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL")
    values = [os.environ.get(n) for n in names]
    if all(values):
        return Infrastructure(*[v for v in values if v])
    return None


def _docker_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _from_local_scripts() -> Infrastructure | None:
    if not INFRA_SCRIPT.exists():
        return None
    started = subprocess.run([str(INFRA_SCRIPT), "up"], capture_output=True, text=True)
    if started.returncode != 0:
        raise InfrastructureMissing(
            f"`{INFRA_SCRIPT} up` failed:\n{started.stdout[-2000:]}\n{started.stderr[-2000:]}"
        )
    env = subprocess.run([str(INFRA_SCRIPT), "env"], capture_output=True, text=True, check=True)
    values = dict(
        line.removeprefix("export ").split("=", 1)
        for line in env.stdout.splitlines()
        if line.startswith("export ")
    )
    return Infrastructure(
        values["KAFKA_BOOTSTRAP_SERVERS"].strip("'\""),
        values["DATABASE_URL"].strip("'\""),
        values["REDIS_URL"].strip("'\""),
    )


def locate_infrastructure() -> Infrastructure:
    """Environment first, then testcontainers when Docker answers, then the local scripts."""
    found = _from_environment()
    if found:
        return found
    if _docker_answers():
        return _start_containers()
    found = _from_local_scripts()
    if found:
        return found
    raise InfrastructureMissing(
        "No Kafka/PostgreSQL/Redis: set KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL and REDIS_URL, "
        "or run `make infra-up` first."
    )


def _start_containers() -> Infrastructure:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer
    from testcontainers.redis import RedisContainer

    kafka = KafkaContainer("apache/kafka:4.1.0").with_kraft().start()
    postgres = PostgresContainer("postgres:16", driver=None).start()
    redis = RedisContainer("redis:7").start()
    host, port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
    return Infrastructure(
        kafka.get_bootstrap_server(), postgres.get_connection_url(), f"redis://{host}:{port}/0"
    )


def plain_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def create_database(admin_url: str, name: str) -> str:
    """Create an empty database next to the admin URL's and return its URL."""
    connection = await asyncpg.connect(plain_url(admin_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, _ = plain_url(admin_url).rpartition("/")
    return f"{base}/{name}"


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(plain_url(admin_url))
    try:
        for attempt in range(20):
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except asyncpg.InsufficientPrivilegeError:
                # An autovacuum worker in the database counts as another role's backend
                # unless the role may signal backends; the worker is gone in moments.
                if attempt == 19:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await connection.close()


async def uncommitted(servers: str, group: str, topic: str) -> dict[int, int]:
    """Per partition of `topic`, how many records lie past the group's committed offset
    (partitions with none left out)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    reader = AIOKafkaConsumer(bootstrap_servers=servers)
    await admin.start()
    await reader.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        [described] = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        assert partitions, f"{topic} has no partitions"
        ends = await reader.end_offsets(partitions)
    finally:
        await reader.stop()
        await admin.close()
    left = {
        tp.partition: end - (committed[tp].offset if tp in committed else 0)
        for tp, end in ends.items()
    }
    return {partition: count for partition, count in left.items() if count}


async def consumed(
    servers: str, group: str, topics: Iterable[str], *, timeout: float = 60.0
) -> None:
    """Wait until `group` has committed every record on `topics` (a consumer that commits
    after its database does has then written what it will for them)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = [await uncommitted(servers, group, topic) for topic in topics]
        if not any(left):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not consumed within {timeout}s: {left}")
        await asyncio.sleep(0.1)


Settings = TypeVar("Settings", bound=ServiceSettings)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def eventually(
    probe: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, interval: float = 0.1
) -> None:
    """Wait until `probe()` is true; fail with a clear message after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


class Databases:
    """Creates throwaway databases and drops them at the end of the session."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.names: list[str] = []

    async def create(self, service: str) -> str:
        name = unique_name(f"test_{service}")
        self.names.append(name)
        return await create_database(self.admin_url, name)


async def settings_for_tests(
    settings_class: type[Settings],
    *,
    infrastructure: Infrastructure,
    databases: Databases,
    topic_prefix: str,
    database_url: str | None = None,
    **values: Any,
) -> Settings:
    """A service's settings on the test infrastructure: a database of its own (unless
    `database_url`), the topics under `topic_prefix`, a consumer group of its own and a
    relay that polls the outbox often, so a test waits for no poll; `values` win."""
    service = settings_class.service_name
    defaults: dict[str, Any] = {
        "consumer_group": unique_name(service),
        "outbox_poll_interval_s": 0.05,
    }
    return settings_class(
        database_url=database_url or await databases.create(service),
        **infrastructure.connections(topic_prefix),
        **{**defaults, **values},
    )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def in_process(
    app: Any,
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    startup_s: float = 60,
    shutdown_s: float = 60,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` run in this process with its lifespan (consumers, relay,
    scheduler started; stopped on exit), optionally signed in by `headers`."""
    async with LifespanManager(
        app, startup_timeout=startup_s, shutdown_timeout=shutdown_s
    ) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url=base_url, headers=headers
        ) as client:
            yield client


Scheduler = TypeVar("Scheduler")


@dataclass
class InProcessService(Generic[Settings, Scheduler]):
    """A service's app run in this process (see `in_process_starter`); a service's tests
    subclass it with their own helpers."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    clock: SettableClock

    @property
    def scheduler(self) -> Scheduler:
        """The app's scheduler: a test calls its `tick()` when it runs in the background
        only if the settings enable it."""
        scheduler: Scheduler = self.app.state.scheduler
        return scheduler


Service = TypeVar("Service", bound=InProcessService[Any, Any])
ServiceStarter = Callable[..., AbstractAsyncContextManager[Service]]


def in_process_starter(
    service: type[Service],
    create_app: Callable[..., FastAPI],
    settings_class: type[ServiceSettings],
    *,
    infrastructure: Infrastructure,
    databases: Databases,
    topic_prefix: str,
    clock_at: datetime,
    **defaults: Any,
) -> ServiceStarter[Service]:
    """What a service's fixture hands its tests: `async with start(**settings) as running`
    runs `create_app` in this process (`in_process`) on `settings_for_tests` (the keyword
    `database_url` reuses a database), trusting the test issuer, on a settable clock at
    `clock_at` unless a `clock` is given. `defaults` are settings; a start's own win."""

    @asynccontextmanager
    async def start(
        *, database_url: str | None = None, clock: SettableClock | None = None, **values: Any
    ) -> AsyncIterator[Service]:
        settings = await settings_for_tests(
            settings_class,
            infrastructure=infrastructure,
            databases=databases,
            topic_prefix=topic_prefix,
            database_url=database_url,
            **{**defaults, **values},
        )
        the_clock = clock or SettableClock(clock_at)
        app = create_app(settings, clock=the_clock, verifier=verifier_for_tests())
        async with in_process(app, f"http://{settings_class.service_name}") as client:
            yield service(app, client, settings, the_clock)

    return start


@asynccontextmanager
async def fresh_topics(servers: str, prefix: str) -> AsyncIterator[str]:
    """Every topic of deploy/topics.yaml created under `prefix`, deleted on exit."""
    await apply_topics(servers, load_topics(REPO_ROOT / "deploy" / "topics.yaml", prefix=prefix))
    try:
        yield prefix
    finally:
        await delete_topics_with_prefix(servers, prefix)


@asynccontextmanager
async def bench_settings(settings_class: type[Settings], **values: Any) -> AsyncIterator[Settings]:
    """A service's settings for one benchmark run (on `locate_infrastructure()`): a fresh
    database and fresh topics, both removed on exit, a consumer group of its own, the
    scheduler off and only warnings logged; `values` win."""
    infrastructure = locate_infrastructure()
    run = unique_name(f"bench_{settings_class.service_name}")
    defaults: dict[str, Any] = {
        "consumer_group": run,
        "scheduler_enabled": False,
        "log_level": "WARNING",
    }
    async with fresh_topics(infrastructure.kafka_bootstrap_servers, f"{run}.") as prefix:
        database_url = await create_database(infrastructure.database_url, run)
        try:
            yield settings_class(
                database_url=database_url,
                **infrastructure.connections(prefix),
                **{**defaults, **values},
            )
        finally:
            await drop_database(infrastructure.database_url, run)


SendEvents = Callable[[Sequence[Event]], Awaitable[None]]


@asynccontextmanager
async def event_producer(
    infrastructure: "Infrastructure", topic_prefix: str, *, max_request_size: int = 1 << 20
) -> AsyncIterator[SendEvents]:
    """`await send(events)`: each event to the real broker exactly as a producing service
    sends it (the contract's envelope, key, headers and timestamp), under `topic_prefix`;
    a larger `max_request_size` than the client's default for a large trust's directory."""
    producer = AIOKafkaProducer(
        bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        enable_idempotence=True,
        max_request_size=max_request_size,
    )
    await producer.start()

    async def send(events: Sequence[Event]) -> None:
        for event in events:
            record = envelope.encode(event)
            await producer.send_and_wait(
                topic_prefix + record.topic,
                record.value,
                key=record.key,
                headers=record.headers,
                timestamp_ms=record.timestamp_ms,
            )

    try:
        yield send
    finally:
        await producer.stop()


# The trust of actionplan's and publication's test periods: (unit, parent, name, level).
TEST_TRUST = (
    ("HF", None, "Helse Test HF", "1"),
    ("K", "HF", "Klinikk", "2.1"),
    ("S-PUB", "K", "Sengepost stor", "3"),
    ("S-SMALL", "K", "Liten post", "3"),
    ("K2", "HF", "Rehabiliteringsklinikken", "2.1"),
    ("A-PUB", "K2", "Sengepost A", "3"),
    ("B-PUB", "K2", "Sengepost B", "3"),
    ("C-SMALL", "K2", "Dagpost", "3"),
)


def units_of_test_trust(eligible: Mapping[str, int]) -> tuple[UnitInScope, ...]:
    """The units of `TEST_TRUST` that `eligible` names, each with that many invited."""
    return tuple(
        UnitInScope(unit_id=unit, parent_id=parent, name=name, level=level, eligible=eligible[unit])
        for unit, parent, name, level in TEST_TRUST
        if unit in eligible
    )


ISSUER_FOR_TESTS = "https://issuer.test"


@functools.cache
def issuer_key_for_tests() -> str:
    """One RSA key per test session, so in-process apps and service processes trust the
    same test issuer."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@functools.cache
def issuer_for_tests() -> DevelopmentIssuer:
    return DevelopmentIssuer(
        issuer=ISSUER_FOR_TESTS, audience="forbedring", private_key_pem=issuer_key_for_tests()
    )


def verifier_for_tests() -> TokenVerifier:
    issuer = issuer_for_tests()
    return TokenVerifier(issuers={issuer.issuer: issuer.keys()}, audience="forbedring")


def signed_in_as(person_id: str) -> dict[str, str]:
    """The `Authorization` header of a test-issuer token for `person_id`."""
    return {"Authorization": f"Bearer {issuer_for_tests().issue(person_id)}"}


def service_environment(
    service: str,
    *,
    infrastructure: Infrastructure,
    database_url: str,
    topic_prefix: str,
    port: int,
    consumer_group: str | None = None,
) -> dict[str, str]:
    """Environment for running a service process against the test infrastructure."""
    prefix = service.upper()
    env = {
        f"{prefix}_DATABASE_URL": database_url,
        f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap_servers,
        f"{prefix}_KAFKA_TOPIC_PREFIX": topic_prefix,
        f"{prefix}_REDIS_URL": infrastructure.redis_url,
        f"{prefix}_HTTP_PORT": str(port),
        # The test issuer's tokens (`signed_in_as`) are valid at every service process.
        f"{prefix}_DEV_ISSUER_ENABLED": "true",
        f"{prefix}_DEV_ISSUER_URL": ISSUER_FOR_TESTS,
        f"{prefix}_DEV_ISSUER_PRIVATE_KEY": issuer_key_for_tests(),
    }
    if consumer_group:
        env[f"{prefix}_CONSUMER_GROUP"] = consumer_group
    return env
