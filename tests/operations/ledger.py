"""A small service built on the chassis, for the operations tests: it consumes
response-submitted (borrowing aggregation's name, so its dead-letter topic is one
`deploy/topics.yaml` creates), writes each event's response id to a table `applied`
(without a key, so an event applied twice shows as two rows), runs a periodic task,
serves one route with a path parameter, and can be made to fail or to hold on command.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import ClassVar

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.db import OutboxMessage, ProcessedEvent, make_engine
from forbedring_chassis.runtime import Consumes, Runtime, create_service_app, run_periodically
from forbedring_chassis.settings import ServiceSettings
from forbedring_chassis.testing import Databases, Infrastructure, in_process, unique_name
from forbedring_contracts import topics
from forbedring_contracts.events import ResponseSubmitted


class LedgerSettings(ServiceSettings):
    service_name: ClassVar[str] = "aggregation"


@dataclass
class Switches:
    """What the test makes the service do."""

    poisoned: set[str] = field(default_factory=set)
    """Response ids whose events fail every time they are applied."""
    open: asyncio.Event = field(default_factory=asyncio.Event)
    """Cleared: the consumer holds the next event until it is set again."""
    scheduler_fails: bool = False

    def __post_init__(self) -> None:
        self.open.set()


@dataclass
class Ledger:
    app: FastAPI
    client: httpx.AsyncClient
    settings: LedgerSettings
    switches: Switches

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def applied(self) -> list[str]:
        async with self.runtime.sessions() as session:
            rows = await session.exec(text("SELECT response_id FROM applied"))  # type: ignore[call-overload]
            return [row[0] for row in rows.all()]


async def create_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: SQLModel.metadata.create_all(
                    sync,
                    tables=[ProcessedEvent.__table__, OutboxMessage.__table__],  # type: ignore[attr-defined]
                )
            )
            await connection.execute(text("CREATE TABLE applied (response_id text NOT NULL)"))
    finally:
        await engine.dispose()


def create_ledger(settings: LedgerSettings, switches: Switches) -> FastAPI:
    async def apply(session: AsyncSession, event: ResponseSubmitted) -> None:
        await switches.open.wait()
        if str(event.response_id) in switches.poisoned:
            raise RuntimeError(f"cannot apply {event.response_id}")
        await session.exec(
            text("INSERT INTO applied VALUES (:id)"),  # type: ignore[call-overload]
            params={"id": str(event.response_id)},
        )

    async def tick() -> None:
        if switches.scheduler_fails:
            raise RuntimeError("the tick failed")

    async def scheduler(runtime: Runtime) -> None:
        await run_periodically(tick, interval_s=0.1, failure_event="ledger.scheduler.tick_failed")

    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"thing_id": thing_id}

    return create_service_app(
        settings=settings,
        package="forbedring_chassis",
        routers=[router],
        consumes=[Consumes(topics.RESPONSE_SUBMITTED, apply)],
        background=[scheduler],
    )


@asynccontextmanager
async def running_ledger(
    infrastructure: Infrastructure,
    databases: Databases,
    topic_prefix: str,
    *,
    database_url: str | None = None,
    consumer_group: str | None = None,
    switches: Switches | None = None,
    **extra: object,
) -> AsyncIterator[Ledger]:
    """The ledger in this process, on a fresh database and consumer group unless given."""
    settings = LedgerSettings(
        database_url=database_url or await databases.create("ledger"),
        **infrastructure.connections(topic_prefix),
        consumer_group=consumer_group or unique_name("ledger"),
        migrate_at_start=False,
        consumer_max_attempts=2,
        consumer_retry_backoff_s=0.05,
        metrics_interval_s=0.2,
        **extra,  # type: ignore[arg-type]
    )
    if database_url is None:
        await create_tables(settings.database_url)
    switches = switches or Switches()
    app = create_ledger(settings, switches)
    async with in_process(app, "http://ledger") as client:
        yield Ledger(app, client, settings, switches)
