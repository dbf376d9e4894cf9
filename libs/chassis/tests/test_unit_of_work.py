"""A request's unit of work is committed before its answer leaves: a process killed
between the two must not lose what the answer acknowledged."""

from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI, status
from sqlalchemy import text
from starlette.types import Message, Receive, Scope, Send

from forbedring_chassis.db import make_engine, make_sessions
from forbedring_chassis.runtime import SessionDep
from forbedring_chassis.testing import Databases

pytestmark = pytest.mark.infra


class SeesCommittedRows:
    """At the first byte of the answer, counts the table's rows from another connection."""

    def __init__(self, app: FastAPI, database_url: str) -> None:
        self.app, self.engine = app, make_engine(database_url, pool_size=1)
        self.rows_when_answered: int | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                async with self.engine.connect() as other:
                    found = await other.execute(text("SELECT count(*) FROM answers"))
                    self.rows_when_answered = found.scalar_one()
            await send(message)

        await self.app(scope, receive, watching)


async def test_the_answer_leaves_only_after_the_commit(databases: Databases) -> None:
    url = (await databases.create("unit_of_work")).replace("postgresql://", "postgresql+asyncpg://")
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE answers (id serial PRIMARY KEY)"))
    app = FastAPI()
    app.state.runtime = SimpleNamespace(
        sessions=make_sessions(engine), relay=SimpleNamespace(wake=lambda: None)
    )

    @app.post("/answers", status_code=status.HTTP_202_ACCEPTED)
    async def answer(session: SessionDep) -> dict[str, str]:
        await (await session.connection()).execute(text("INSERT INTO answers DEFAULT VALUES"))
        return {"status": "accepted"}

    watched = SeesCommittedRows(app, url)
    transport = httpx.ASGITransport(app=watched)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.post("/answers")).status_code == 202
        assert watched.rows_when_answered == 1
    finally:
        await watched.engine.dispose()
        await engine.dispose()
