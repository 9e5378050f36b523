"""PostgreSQL's monthly partitions of the per-user days, and what R-USE-08 keeps: retention drops
whole months, release forgets the released services' users (the daily totals stay).

Partitions (PostgreSQL): `usage_user_days_pYYYYMM` holds one calendar month. `ensure_partitions`
creates the months from the 400-day horizon to next month (the worker runs it daily, so they exist
ahead of the days that need them; an ingest also makes a month a line needs when it is missing, in
its own transaction first). `retention` drops every partition whose whole month is past the 400 days
and deletes the older days left in the boundary month (and the last active days as old).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.usage.lines import HISTORY_DAYS
from server.domain.usage.storage import LOCK_CLASS, PARENT, dialect_name, day_number


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def partition_name(month: date) -> str:
    return f"{PARENT}_p{month:%Y%m}"


def horizon(today: date) -> date:
    """The oldest day kept (R-USE-08: per-user rows older than 400 days are deleted)."""
    return today - timedelta(days=HISTORY_DAYS)


def months_needed(today: date) -> list[date]:
    """Every month from the 400-day horizon to next month: what the worker keeps created ahead."""
    months, month = [], month_of(horizon(today))
    while month <= next_month(month_of(today)):
        months.append(month)
        month = next_month(month)
    return months


async def partitions(db: AsyncSession) -> dict[date, str]:
    """The existing monthly partitions by their first day (PostgreSQL)."""
    names = await db.scalars(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                  "WHERE i.inhparent = CAST(:parent AS regclass)"), {"parent": PARENT})
    found = {}
    for name in names:
        stamp = name.rsplit("_p", 1)[-1]
        if len(stamp) == 6 and stamp.isdigit():
            found[date(int(stamp[:4]), int(stamp[4:]), 1)] = name
    return found


#: Per database (its URL), the months this process has seen partitioned: an ingest whose months are
#: all here sends nothing for them (it looked them up in a transaction of its own each time: ~2-4 ms
#: a batch). A month leaves when this process's `retention` drops it; another process (the worker)
#: drops only months wholly past the 400 days, which no line may name (R-USE-02); a month dropped
#: by hand fails the ingest's write (`missing_partition`), which makes it and writes again once.
_PARTITIONED: dict[str, set[date]] = {}


def _partitioned(db: AsyncSession) -> set[date]:
    return _PARTITIONED.setdefault(str(db.get_bind().url), set())


def missing_partition(error: BaseException) -> bool:
    """Whether `error` is PostgreSQL's refusal of a row whose month has no partition (SQLSTATE
    23514, raised by asyncpg directly or wrapped by SQLAlchemy)."""
    for cause in (error, getattr(error, "orig", None)):
        if getattr(cause, "sqlstate", None) == "23514" and "no partition of relation" in str(cause):
            return True
    return False


def partitioned(db: AsyncSession, months: Iterable[date]) -> bool:
    """Whether every month of `months` is known to have its partition (always on SQLite)."""
    return dialect_name(db) != "postgresql" or _partitioned(db).issuperset(months)


async def ensure_partitions(db: AsyncSession, months: Iterable[date]) -> list[str]:
    """Create the monthly partitions among `months` that do not exist (PostgreSQL; nothing on
    SQLite); returns the names created. Run in a transaction of its own: DDL locks the parent."""
    if dialect_name(db) != "postgresql":
        return []
    months = set(months)
    existing = await partitions(db)
    created = []
    for month in sorted(months - set(existing)):
        name = partition_name(month)
        await db.execute(text(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {PARENT} "
                              f"FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"))
        created.append(name)
    _partitioned(db).update(months)
    return created


async def retention(db: AsyncSession, today: date) -> list[str]:
    """R-USE-08: per-user rows older than 400 days go. On PostgreSQL whole months are dropped (their
    partitions); the boundary month's older days and old last-active rows are deleted. Returns the
    partitions dropped."""
    cutoff = horizon(today)
    dropped = []
    if dialect_name(db) == "postgresql":
        for month, name in sorted((await partitions(db)).items()):
            if next_month(month) <= cutoff:
                await db.execute(text(f"DROP TABLE IF EXISTS {name}"))
                _partitioned(db).discard(month)
                dropped.append(name)
    await db.execute(text("DELETE FROM usage_user_days WHERE day < :cutoff"), {"cutoff": cutoff})
    await db.execute(text(RETENTION[dialect_name(db) == "postgresql"]), {"cutoff": day_number(cutoff)})
    return dropped


#: The last active days before the cutoff (a day number) leave their objects (SQLite, PostgreSQL).
#: A row left empty stays: deleting it could race an ingest moving a day of it forward.
RETENTION = ("""UPDATE usage_last_active SET days = (SELECT json_group_object(e.key, e.value)
  FROM json_each(usage_last_active.days) AS e WHERE e.value >= :cutoff)
WHERE EXISTS (SELECT 1 FROM json_each(usage_last_active.days) AS e WHERE e.value < :cutoff)""",
             """UPDATE usage_last_active AS l SET days = (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}')
  FROM jsonb_each(l.days) AS e WHERE CAST(e.value AS integer) >= :cutoff)
WHERE EXISTS (SELECT FROM jsonb_each(l.days) AS e WHERE CAST(e.value AS integer) < :cutoff)""")


async def forget_users(db: AsyncSession, org_id: int, services: Sequence[str]) -> None:
    """R-USE-08, on release: the org's per-user rows of these services go; daily totals stay (on
    PostgreSQL after any ingest of the org in progress: its lock, LOCK_ORGS)."""
    if dialect_name(db) == "postgresql":
        await db.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, CAST(:org % 2147483648 AS integer))"),
                         {"org": org_id})
    for table in ("usage_user_days", "usage_last_active"):
        await db.execute(text(f"DELETE FROM {table} WHERE org_id = :org AND service IN :services")
                         .bindparams(bindparam("services", expanding=True)), {"org": org_id, "services": list(services)})


async def on_release(db: AsyncSession, trial) -> None:
    """R-USE-08 on release (R-TIME-05): the per-user rows of the trial's services go (the daily
    totals per service stay). Decision: only the released trial's services; an org that keeps living
    keeps the per-user usage of its other services."""
    services = await db.scalars(text("SELECT DISTINCT service FROM trial_services WHERE trial_id = :trial"),
                                {"trial": trial.id})
    await forget_users(db, trial.customer_id, list(services))
