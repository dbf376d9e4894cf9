"""Database plumbing: engine, sessions, and the two tables every service has (outbox, inbox)."""

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, DateTime, LargeBinary, String, delete
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from forbedring_chassis.logging import get_logger
from forbedring_contracts.events import PublishedUnitResults, SuppressedUnitResults

Sessions = async_sessionmaker[AsyncSession]
_log = get_logger(__name__)


def make_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(database_url, pool_size=pool_size, pool_pre_ping=True)


def make_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """One transaction: commits when the block ends normally, rolls back on error."""
    async with sessions() as session, session.begin():
        yield session


Row = TypeVar("Row", bound=SQLModel)


async def lock_or_create(
    session: AsyncSession,
    model: type[Row],
    *,
    key: Mapping[str, Any],
    new: Mapping[str, Any] | None = None,
) -> Row:
    """The row with this primary key, locked until the transaction ends; created first
    with the values `new` (for NOT NULL columns) if missing. Consumers lock a period's row
    first, so one period's events are applied one at a time whichever replica reads them."""
    await session.exec(
        pg_insert(model)
        .values({**key, **(new or {})})
        .on_conflict_do_nothing(index_elements=list(key))
    )
    query = select(model).with_for_update().execution_options(populate_existing=True)
    for name, value in key.items():
        query = query.where(col(getattr(model, name)) == value)
    return (await session.exec(query)).one()


def moment_column(*, nullable: bool = True) -> Any:
    """A timezone-aware timestamp column (every moment is stored with its offset)."""
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


# The read models consuming services keep of the same events, declared once. Each service
# subclasses them as a table under its own name (table names carry the service's name).


class DirectoryUnitColumns(SQLModel):
    """A unit of a period's directory, as directory-updated told it."""

    period_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    parent_id: str | None = None
    name: str
    level: str


class UnitResultColumns(SQLModel):
    """A unit-results event's value as the contract encodes it (see keep_unit_results)."""

    period_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    value: bytes = Field(sa_type=LargeBinary, nullable=False)


async def keep_unit_results(
    session: AsyncSession,
    model: type[UnitResultColumns],
    *,
    event: PublishedUnitResults | SuppressedUnitResults,
    settled: bool,
    ignored: str,
    **columns: Any,
) -> bool:
    """Store a unit-results event, under its period's lock, as the bytes the contract
    encodes (a checksum is over them), one row a unit: a redelivery replaces it. Once the
    period's results are settled a late one changes nothing: it is logged as `ignored` and
    False is returned."""
    if settled:
        _log.warning(ignored, period_id=event.period_id, unit_id=event.unit_id)
        return False
    values = {**columns, "value": event.model_dump_json().encode()}
    statement = pg_insert(model).values(period_id=event.period_id, unit_id=event.unit_id, **values)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["period_id", "unit_id"],
            set_={name: statement.excluded[name] for name in values},
        )
    )
    return True


async def count_unit_results(
    session: AsyncSession, model: type[UnitResultColumns], *, period_id: str
) -> int:
    """How many of the period's units' results are kept (complete when the count that
    results-finalized gives)."""
    found = await session.exec(
        select(func.count()).select_from(model).where(col(model.period_id) == period_id)
    )
    return int(found.one())


async def replace_period_rows(
    session: AsyncSession, *, period_id: str, rows: dict[type[SQLModel], Sequence[SQLModel]]
) -> None:
    """Replace every row of these tables for a period with the given ones: a service's
    copy of a snapshot event (directory-updated replaces the directory whole)."""
    for model, new in rows.items():
        await session.exec(delete(model).where(col(model.period_id) == period_id))  # type: ignore[attr-defined]
        session.add_all(new)
    await session.flush()


class OutboxMessage(SQLModel, table=True):
    """An event waiting to be published; written in the same transaction as the state change."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    topic: str = Field(sa_column=Column(String, nullable=False))
    key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    timestamp_ms: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class ProcessedEvent(SQLModel, table=True):
    """Event ids a consumer group has applied; inserted in the same transaction as the effect."""

    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
