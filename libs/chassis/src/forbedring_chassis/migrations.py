"""Alembic, run at start: each service keeps its scripts in `<package>/migrations`.

A service's `migrations/env.py` is just `run_env()`; its first revision calls
`create_chassis_tables()` so the outbox and inbox tables are the same everywhere.
"""

import asyncio

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

# Any constant works; it only has to be the same for every replica of a service.
_MIGRATION_LOCK = 7_301_977


def upgrade_to_head(*, database_url: str, package: str) -> None:
    """Bring the database to the newest revision. Blocking; call it in a thread."""
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.set_main_option("sqlalchemy.url", database_url)
    command.upgrade(config, "head")


def _migrate(connection: Connection) -> None:
    # Replicas starting together would race on the first revision; serialise them.
    connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate)
    finally:
        await engine.dispose()


def run_env() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")
    asyncio.run(_run_online(url))


def create_chassis_tables() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("topic", sa.String, nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("headers", JSONB, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String, primary_key=True),
        sa.Column("event_id", sa.String, primary_key=True),
    )
