"""What every part of the repository shares: the session's connection, and answers as
JSON text."""

import json

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession


async def connection(session: AsyncSession) -> AsyncConnection:
    """The caller's connection, in the caller's transaction."""
    return await session.connection()


def json_text(value: object) -> str:
    """Compact JSON with sorted keys, as the answers are stored."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
