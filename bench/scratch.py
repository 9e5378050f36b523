"""A throw-away PostgreSQL database for one bench run: created from the server at `base_url`,
migrated to head, dropped (with its connections) however the run ends; `started_app`: the app on
such a database with its lifespan started, or None when PostgreSQL does not answer."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def database(base_url: str, prefix: str, settings: dict[str, str] | None = None) -> AsyncIterator[str]:
    """Yields the new database's SQLAlchemy URL (`base_url` is one of the server's, asyncpg);
    `settings`: PostgreSQL settings of the database (ALTER DATABASE … SET, an experiment's)."""
    import asyncpg

    from server.db import migrate

    name = f"{prefix}_{uuid.uuid4().hex[:6]}"
    admin = base_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    for setting, value in (settings or {}).items():
        await conn.execute(f'ALTER DATABASE "{name}" SET {setting} = {value}')
    await conn.close()
    try:
        url = base_url.rsplit("/", 1)[0] + "/" + name
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@asynccontextmanager
async def started_app(base_url: str, redis: str, prefix: str, settings: dict[str, str] | None = None):
    """Yields a Trialdesk app (test env, the real clock) on a throw-away database, its lifespan
    started; None (after saying why) when PostgreSQL at `base_url` does not answer."""
    import asyncpg

    from server.app import create_app
    from server.settings import Settings

    try:
        probe = await asyncpg.connect(base_url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
        await probe.close()
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as error:
        print(f"PostgreSQL not reachable at {base_url} ({error}): skipped")
        yield None
        return
    async with database(base_url, prefix, settings) as url:
        app = create_app(Settings(DATABASE_URL=url, REDIS_URL=redis, TRIALDESK_ENV="test", TRIALDESK_TEST_CLOCK="0",
                                  SECRET_KEY="bench-" + "x" * 40, TRIALDESK_QUEUE=f"bench-{url.rsplit('/', 1)[-1]}"))
        async with app.router.lifespan_context(app):
            yield app
