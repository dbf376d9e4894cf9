"""Database plumbing: engine, sessions, and the two tables every service has (outbox, inbox)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import BigInteger, Column, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

Sessions = async_sessionmaker[AsyncSession]


def make_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(database_url, pool_size=pool_size, pool_pre_ping=True)


def make_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """One transaction: commits when the block ends normally, rolls back on error."""
    async with sessions() as session, session.begin():
        yield session


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
