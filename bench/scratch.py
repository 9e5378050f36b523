"""A throw-away PostgreSQL database for one bench run: created from the server at `base_url`,
migrated to head, dropped (with its connections) however the run ends."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def database(base_url: str, prefix: str) -> AsyncIterator[str]:
    """Yields the new database's SQLAlchemy URL (`base_url` is one of the server's, asyncpg)."""
    import asyncpg

    from server.db import migrate

    name = f"{prefix}_{uuid.uuid4().hex[:6]}"
    admin = base_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        url = base_url.rsplit("/", 1)[0] + "/" + name
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
