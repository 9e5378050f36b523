"""The usage work of each day, run by the worker's sweep (jobs/sweep.py) once per day (the first
sweep of a UTC day by the clock claims it in `usage_runs`, so two workers never both run it):
partitions made ahead and retention (server.domain.usage.storage, R-USE-08)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import clock
from server.domain.usage import storage

_CLAIM = text("INSERT INTO usage_runs (name, day) VALUES (:name, :today) "
              "ON CONFLICT (name) DO UPDATE SET day = excluded.day WHERE usage_runs.day < excluded.day "
              "RETURNING name")


async def claim(db: AsyncSession, name: str, today: date) -> bool:
    """True once per day and name: the caller runs that day's job (in the same transaction)."""
    return (await db.execute(_CLAIM, {"name": name, "today": today})).first() is not None


async def run(sessionmaker: async_sessionmaker) -> dict[str, list[str]]:
    """Today's partitions and retention, when not done yet today; what was created and dropped."""
    async with sessionmaker() as db, db.begin():
        today = (await clock.refresh(db)).date()
        if not await claim(db, "partitions", today):
            return {}
        created = await storage.ensure_partitions(db, storage.months_needed(today))
        dropped = await storage.retention(db, today)
    return {"created": created, "dropped": dropped}
