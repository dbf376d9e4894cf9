"""The service app factory: FastAPI + FastStream broker + database + Redis + outbox relay.

Nothing here does I/O at import time; `create_service_app` builds objects, and the
lifespan connects, migrates, starts consuming, and on shutdown drains in-flight work.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from forbedring_chassis.auth import (
    TokenVerifier,
    build_verifier,
    development_issuer,
    development_issuer_router,
)
from forbedring_chassis.clock import Clock, SystemClock
from forbedring_chassis.consumer import (
    CONSUMER_METRICS,
    BatchConsumer,
    BatchHandler,
    EventHandler,
    register_batch_consumer,
    register_consumer,
)
from forbedring_chassis.db import Sessions, make_engine, make_sessions
from forbedring_chassis.errors import install_error_handlers
from forbedring_chassis.logging import configure_logging, get_logger
from forbedring_chassis.metrics import (
    SCHEDULER_METRICS,
    ConsumerLag,
    Monitor,
    OutboxBacklog,
    scheduler_ran,
)
from forbedring_chassis.migrations import upgrade_to_head
from forbedring_chassis.offload import Offload
from forbedring_chassis.oidc import signin_router
from forbedring_chassis.outbox import OutboxRelay
from forbedring_chassis.security import CrossOriginGuard, SecurityHeaders
from forbedring_chassis.settings import ServiceSettings
from forbedring_chassis.telemetry import configure_tracing, http_telemetry
from forbedring_chassis.web import Pages, install_pages

log = get_logger(__name__)


@dataclass
class Runtime:
    """Everything a request or handler may need, built once per app."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: Sessions
    broker: KafkaBroker
    redis: Redis
    relay: OutboxRelay
    clock: Clock = field(default_factory=SystemClock)
    """The one clock of the service: use cases, schedulers and routes ask it (`ClockDep`);
    tests pass a settable one to `create_service_app`."""
    extras: dict[str, object] = field(default_factory=dict)


def make_broker(settings: ServiceSettings, registry: CollectorRegistry) -> KafkaBroker:
    # Idempotent producer with acks=all: a retried send never duplicates or reorders.
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"forbedring-{settings.service_name}",
        enable_idempotence=True,
        acks="all",
        # directory-updated for a whole trust is over aiokafka's 1 MiB default (the demo
        # hospital's is 1.6 MB); its topic takes 10 MiB (deploy/topics.yaml).
        max_request_size=10 << 20,
        graceful_timeout=settings.shutdown_grace_s,
        # Not "faststream": FastStream gives that logger its own coloured handler. Ours
        # propagates to the JSON handler; the per-message
        # "Received"/"Processed" lines are INFO and stay below the root's WARNING.
        logger=logging.getLogger("forbedring.broker"),
        middlewares=[
            KafkaTelemetryMiddleware(),
            KafkaPrometheusMiddleware(registry=registry, app_name=settings.service_name),
        ],
    )


# Coroutines, though they await nothing: FastAPI runs a plain function dependency in a
# worker thread, a hop per request for a field read.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: the one commit point, then wake the outbox relay."""
    async with runtime.sessions() as session, session.begin():
        yield session
    runtime.relay.wake()


# Committed before the response is sent (scope "function"): with the default scope FastAPI
# commits after sending it, so a crash in between loses what a 202 acknowledged.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def _check(name: str, probe: Callable[[], object]) -> tuple[str, str]:
    try:
        result = probe()
        if asyncio.iscoroutine(result):
            await asyncio.wait_for(result, timeout=2.0)
        return name, "ok"
    except Exception as exc:
        return name, f"unavailable: {type(exc).__name__}"


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz")
    async def readyz(runtime: RuntimeDep) -> JSONResponse:
        async def database() -> None:
            async with runtime.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        async def kafka() -> None:
            if not await runtime.broker.ping(timeout=2.0):
                raise ConnectionError("kafka ping failed")

        async def redis() -> None:
            await runtime.redis.ping()

        checks = dict(
            await asyncio.gather(
                _check("database", database), _check("kafka", kafka), _check("redis", redis)
            )
        )
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    return router


class ForwardedPrefix:
    """Serve correct links (e.g. /survey/docs → /survey/openapi.json) behind the proxy.

    The proxy strips the path prefix and says what it was in X-Forwarded-Prefix; ASGI's
    `root_path` is where that belongs. Only honoured when uvicorn trusts the proxy.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"x-forwarded-prefix":
                    # ASGI: `path` includes `root_path` (Starlette's mounts rely on it).
                    prefix = value.decode("latin-1").rstrip("/")
                    scope = {
                        **scope,
                        "root_path": prefix,
                        "path": prefix + scope["path"],
                        "raw_path": prefix.encode("latin-1") + scope.get("raw_path", b""),
                    }
                    break
        await self.app(scope, receive, send)


BackgroundTask = Callable[[Runtime], Awaitable[None]]
"""A long-running coroutine a service runs beside its requests (e.g. a scheduler loop).
Started after the broker and relay, cancelled at shutdown before the relay's last flush."""


@dataclass(frozen=True)
class Consumes:
    topic: str
    handler: EventHandler


@dataclass(frozen=True)
class ConsumesBatches:
    """Consume `topics` with one consumer, in batches (`register_batch_consumer`);
    `after_commit(runtime, events)` runs after each batch's commit with the events it
    applied."""

    topics: tuple[str, ...]
    handler: BatchHandler
    after_commit: "Callable[[Runtime, Sequence[Any]], Awaitable[None]] | None" = None
    max_records: int = 1000
    batch_timeout_ms: int = 100
    max_partition_fetch_bytes: int = 1 << 20
    slice_records: int | None = None
    offload: Offload | None = None
    read_first: tuple[str, ...] = ()


async def run_periodically(
    tick: Callable[[], Awaitable[object]],
    *,
    interval_s: float,
    failure_event: str,
    last_tick_s: float | None = None,
    name: str | None = None,
) -> None:
    """Run `tick` now and then every `interval_s` until cancelled. A failing tick is
    logged as `failure_event`, and the next one still comes. With `last_tick_s`, being
    cancelled runs one last tick (for at most that long), so work already due leaves at
    shutdown rather than at the next start. Each run is counted under `name` (default:
    `failure_event` without its last part, e.g. `survey.scheduler`)."""
    name = name or failure_event.rsplit(".", 1)[0]
    try:
        while True:
            try:
                await tick()
                scheduler_ran(name, ok=True)
            except Exception:  # not CancelledError: that ends the loop
                scheduler_ran(name, ok=False)
                log.exception(failure_event)
            await asyncio.sleep(interval_s)
    except asyncio.CancelledError:
        if last_tick_s is not None:
            with suppress(Exception):
                await asyncio.wait_for(tick(), timeout=last_tick_s)
        raise


async def _supervised(task: BackgroundTask, runtime: Runtime) -> None:
    """Run a background task; if it fails, log it and start it again after a pause."""
    while True:
        try:
            await task(runtime)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("service.background.failed")
            await asyncio.sleep(1.0)


def _bind(
    hook: "Callable[[Runtime, Sequence[Any]], Awaitable[None]] | None",
    runtime: Callable[[], Runtime],
) -> "Callable[[Sequence[Any]], Awaitable[None]] | None":
    """`hook` with the runtime bound (the runtime is built after the consumers)."""
    if hook is None:
        return None

    async def bound(events: Sequence[Any]) -> None:
        await hook(runtime(), events)

    return bound


def create_service_app(
    *,
    settings: ServiceSettings,
    package: str,
    routers: Sequence[APIRouter] = (),
    consumes: Sequence[Consumes | ConsumesBatches] = (),
    background: Sequence[BackgroundTask] = (),
    extras: dict[str, object] | None = None,
    metrics: Sequence[Collector] = (),
    clock: Clock | None = None,
    pages: Pages | None = None,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    """Build a service. `package` holds the service's `migrations` folder; `background`
    coroutines run for the app's lifetime; `extras` land in `Runtime.extras`; `metrics`
    are served at /metrics with the chassis's own; `clock` (default: the system's) is
    `Runtime.clock`; `pages` its templates and messages. Tokens are checked by `verifier`
    (for tests; by default the configured OIDC issuer, and the development issuer, whose
    sign-in is then served too, when enabled). Errors answer in the one shape of
    `forbedring_chassis.errors`."""
    dev = development_issuer(settings)
    configure_tracing(service=settings.service_name, otlp_endpoint=settings.otlp_endpoint)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    # One registry per app, so two services can live in one test process.
    registry = CollectorRegistry()
    for metric in (*CONSUMER_METRICS, *SCHEDULER_METRICS, *metrics):
        registry.register(metric)
    broker = make_broker(settings, registry)
    monitor = Monitor(
        (
            OutboxBacklog(sessions),
            ConsumerLag(
                broker,
                topic_prefix=settings.kafka_topic_prefix,
                servers=settings.kafka_bootstrap_servers,
            ),
        ),
        interval_s=settings.metrics_interval_s,
    )
    for part in (*monitor.parts, monitor):
        registry.register(part)
    relay = OutboxRelay(
        sessions=sessions,
        broker=broker,
        poll_interval_s=settings.outbox_poll_interval_s,
        topic_prefix=settings.kafka_topic_prefix,
    )
    redis = Redis.from_url(settings.redis_url)
    batch_consumers: list[BatchConsumer] = []
    for consumer in consumes:
        if isinstance(consumer, ConsumesBatches):
            registered = register_batch_consumer(
                broker,
                settings=settings,
                sessions=sessions,
                topics=consumer.topics,
                handler=consumer.handler,
                after_commit=_bind(consumer.after_commit, lambda: runtime),
                max_records=consumer.max_records,
                batch_timeout_ms=consumer.batch_timeout_ms,
                max_partition_fetch_bytes=consumer.max_partition_fetch_bytes,
                slice_records=consumer.slice_records,
                offload=consumer.offload,
                read_first=consumer.read_first,
            )
            batch_consumers.append(registered)
            continue
        register_consumer(
            broker,
            settings=settings,
            sessions=sessions,
            topic=consumer.topic,
            handler=consumer.handler,
        )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        redis=redis,
        relay=relay,
        clock=clock or SystemClock(),
        extras=dict(extras or {}),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(
            service=settings.service_name, level=settings.log_level, json=settings.log_json
        )
        if settings.migrate_at_start:
            await asyncio.to_thread(
                upgrade_to_head, database_url=settings.database_url, package=package
            )
        for batch_consumer in batch_consumers:
            await batch_consumer.start()
        await broker.start()
        relay.start()
        monitor.start()
        tasks = [
            asyncio.create_task(_supervised(task, runtime), name=f"background-{index}")
            for index, task in enumerate(background)
        ]
        log.info("service.started", service=settings.service_name)
        try:
            yield
        finally:
            for running in tasks:
                running.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await monitor.stop()
            # Stop consuming and let in-flight handlers and batches finish (up to
            # graceful_timeout), publish what they staged, then close the producer and
            # connections.
            for batch_consumer in batch_consumers:
                await batch_consumer.drain()
            await asyncio.gather(*(sub.stop() for sub in broker.subscribers))
            await relay.stop()
            await broker.stop()
            for batch_consumer in batch_consumers:
                await batch_consumer.stop()
            await redis.aclose()
            await engine.dispose()
            log.info("service.stopped", service=settings.service_name)

    app = FastAPI(
        title=f"Forbedring {settings.service_name}", lifespan=lifespan, telemetry=http_telemetry()
    )
    app.state.runtime = runtime
    app.state.metrics_monitor = monitor
    # What the service's consumer group reads (unprefixed): deploy/kubernetes scales on it.
    app.state.consumed_topics = tuple(
        sorted(
            {
                t
                for c in consumes
                for t in (c.topics if isinstance(c, ConsumesBatches) else (c.topic,))
            }
        )
    )
    install_error_handlers(app)
    app.include_router(_health_router())
    # The browser's sign-in and sign-out, the same at every service (one session per origin).
    app.include_router(signin_router(settings))
    for router in routers:
        app.include_router(router)
    if dev is not None:
        app.include_router(development_issuer_router(dev))
    app.state.token_verifier = verifier or build_verifier(settings, development=dev)
    if pages is not None:
        install_pages(app, pages)
    Instrumentator(
        excluded_handlers=["/healthz", "/readyz", "/metrics"], registry=registry
    ).instrument(app)
    app.mount("/metrics", make_asgi_app(registry=registry))
    app.add_middleware(CrossOriginGuard)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ForwardedPrefix)
    return app
