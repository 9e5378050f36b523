"""Row-lock tests (PostgreSQL only: SQLite serializes every write): a request is started while
another transaction holds a row lock, and the test waits until PostgreSQL shows it waiting on that
lock (the event, not a sleep of a guessed length) before letting the holder commit. They take the
`postgres` fixture (tests/conftest.py): skipped on SQLite."""
from __future__ import annotations

import asyncio

from sqlalchemy import text

WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND wait_event_type = 'Lock' AND state = 'active'")


async def waiting(sessionmaker) -> int:
    """Sessions waiting on a lock now (a transaction of its own: PostgreSQL keeps one snapshot of
    pg_stat_activity per transaction)."""
    async with sessionmaker() as db:
        return await db.scalar(WAITING)


async def until_waiting(sessionmaker, request: asyncio.Task) -> None:
    """Until `request` waits on a lock (it must not finish first: then it did not wait)."""
    while not await waiting(sessionmaker):
        assert not request.done(), request.result()
        await asyncio.sleep(0.01)
