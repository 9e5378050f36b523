"""Migration 0020: the per-user last-active rows become one object per org and service and back,
every user's day carried over both ways (jsonb on PostgreSQL, JSON text on SQLite)."""
from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import text

from server.db import migrate
from server.db.engine import make_engine
from server.domain.usage import storage

ROWS = [(7, "CALLING", "a", date(2026, 11, 30)), (7, "MEETINGS", "a", date(2026, 12, 1)),
        (7, "MEETINGS", 'b"x', date(2025, 10, 2)), (9, "MEETINGS", "c", date(2000, 1, 1))]
OLD = "SELECT org_id, service, user_key, last_active_on FROM usage_user_last_active ORDER BY 1, 2, 3"


async def _rows(url: str, sql: str, params: list | None = None) -> list[tuple]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            if params:
                await conn.execute(text(sql), params)
                return []
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def test_0020_carries_the_last_active_days_over_and_back(empty_database_url):
    url = empty_database_url
    await asyncio.to_thread(migrate.upgrade, url, "0019")
    await _rows(url, "INSERT INTO usage_user_last_active (org_id, service, user_key, last_active_on) "
                     "VALUES (:o, :s, :u, :d)", [{"o": o, "s": s, "u": u, "d": d} for o, s, u, d in ROWS])
    await asyncio.to_thread(migrate.upgrade, url, "0020")
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            async with AsyncSession(bind=conn) as db:
                assert await storage.last_active(db, [7, 9]) == sorted(ROWS)
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrate.downgrade, url, "0019")
    assert [(o, s, u, d if isinstance(d, date) else date.fromisoformat(d))
            for o, s, u, d in await _rows(url, OLD)] == sorted(ROWS)
