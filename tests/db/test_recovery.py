"""A web process survives PostgreSQL ending its connections (a restart, a failover,
`pg_terminate_backend`): pooled connections the server closed are replaced at checkout, without the
round trips of a pre-ping (server.db.engine)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from server.enums import Role
from tests import factories

QUERY = "{ viewer { email roles } }"


async def _terminate_app_connections(app) -> int:
    """End every backend connected to the test database except this statement's own; wait until gone."""
    async with app.state.engine.connect() as conn:
        database = await conn.scalar(text("SELECT current_database()"))
    import asyncpg

    admin = await asyncpg.connect(app.state.engine.url.set(drivername="postgresql").render_as_string(False))
    try:
        killed = await admin.fetchval("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = $1 AND pid <> pg_backend_pid()) AS t", database)
        for _ in range(100):
            if not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                                        "AND pid <> pg_backend_pid()", database):
                break
            await asyncio.sleep(0.02)
    finally:
        await admin.close()
    await asyncio.sleep(0.05)  # the event loop reads the closed sockets
    return killed


async def test_requests_succeed_after_postgres_ends_every_connection(app, client, sessionmaker):
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL ends connections; the embedded SQLite has none to end")
    team = await factories.partner_team(sessionmaker)
    headers = {"authorization": f"Bearer {team.tokens[Role.SALES_ADMIN]}"}
    csrf = await factories.login(client, team.emails[Role.READ_ONLY])
    for _ in range(3):
        # fill the pool: several connections at once
        await asyncio.gather(*(client.post("/graphql", json={"query": QUERY}, headers=headers) for _ in range(4)))
        assert await _terminate_app_connections(app) >= 1
        answers = [await client.post("/graphql", json={"query": QUERY}, headers=headers) for _ in range(6)]
        assert [r.status_code for r in answers] == [200] * 6
        assert all(r.json()["data"]["viewer"]["roles"] == ["SALES_ADMIN"] for r in answers)
        page = await client.get("/customers")
        assert page.status_code == 200 and csrf in page.text
        assert (await client.get("/healthz")).json()["database"] == "ok"


async def test_a_read_checkout_waits_at_most_its_timeout_and_leaves_the_pool_usable(app):
    """All read connections lent: a checkout gives up after the pool's timeout (TimeoutError, as
    SQLAlchemy's pool after `pool_timeout`) instead of waiting for ever; the next return still serves."""
    from server.db import engine as db_engine

    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("the read pool is PostgreSQL's (asyncpg)")
    pool = db_engine._ReadPool(app.state.engine, size=1, timeout=0.2)
    try:
        first = await pool.acquire()
        with pytest.raises(TimeoutError):
            await pool.acquire()
        assert not [w for w in pool.waiters if not w.done()]
        waiting = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)
        pool.release(first)
        assert await asyncio.wait_for(waiting, 5) is first and await first.fetchval("SELECT 1") == 1
        pool.release(first)
    finally:
        await pool.close()
