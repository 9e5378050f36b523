"""The SQL of usage (SPEC §10): per-user days and their rollups, written set-based in the ingest's
own transaction; PostgreSQL's monthly partitions; retention and release (R-USE-08).

On SQLite the rows are one bound JSON array read with `json_each(...)` per statement, the rows the
upsert changed coming back (RETURNING) as the next statements' rows, and the rollups recomputed from
the stored rows (`_write_bound`). On PostgreSQL the batch is copied (COPY) into a temporary table of
the connection and written by one statement with every rollup (`_write_staged`, STAGED_WRITE): no
row travels back to Python and each rollup row is written once per batch.

Order of a batch's writes (`write`), the same result on both backends:
1. per-user days upserted (the same key replaces: R-USE-01), a row whose counts did not change is
   not written again (a re-sent batch changes none, so it writes no rollup either);
2. the daily totals of the changed (org, day, service) keys: recomputed from their per-user rows
   (SQLite); moved by the changed rows' differences from the rows they replaced (PostgreSQL; a key
   first reported, the usual new day, reads no replaced row: WRITE_NEW);
3. the last active day of each changed active user moved forward (an unchanged row moved it when it
   was stored); a user whose changed day is no longer activity gets its last active day recomputed
   (or loses the row) (PostgreSQL: only when a row that was activity is now idle);
4. assigned licenses upserted;
5. the orgs of the changed rows marked in `usage_changed_orgs`: the next daily evaluation of health
   looks at their trials (R-USE-07, server.domain.usage.evaluation).
PostgreSQL: one ingest at a time per org (LOCK_ORGS, transaction-scoped advisory locks): the
differences of step 2 read the replaced rows before replacing them. tests/usage/test_rollups.py
checks the rollups against a recomputation after random sequences of reports on both backends.

Measured (bench/usage.py, 2026-12-07): the COPY-staged path was 1.1-2.3x the bound-array one; over
HTTP the ingest went from 0.23-0.25x the raw floor (statement per rollup, load 11-20) to 0.37-0.53x
with the one statement and the lean line reader (load 3-8). What is left beyond the floor's own insert is mostly the last-active
upsert: every active user's row moves forward every day (8,000 updates per 10,000 lines, kept HOT
by fillfactor 50, migration 0017; a run where PostgreSQL did not prune the pages in time left them
2-7x larger and the updates slower: bench.usage prints the share of HOT updates).

Partitions (PostgreSQL): `usage_user_days_pYYYYMM` holds one calendar month. `ensure_partitions`
creates the months from the 400-day horizon to next month (the worker runs it daily, so they exist
ahead of the days that need them; an ingest also makes a month a line needs when it is missing, in
its own transaction first). `retention` drops every partition whose whole month is past the 400 days
and deletes the older days left in the boundary month (and the last-active rows as old).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import orjson
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.timeline import set_based
from server.domain.usage.lines import HISTORY_DAYS, Activity, Assignment

PARENT = "usage_user_days"
PG_TYPES = {"org_id": "bigint", "day": "date", "service": "varchar", "user_key": "varchar", "events": "bigint",
            "minutes": "bigint", "assigned": "integer"}


def _dialect(db: AsyncSession) -> str:
    return db.get_bind().dialect.name


def row_source(dialect: str, columns: Sequence[str], rows: Sequence[Sequence]) -> tuple[str, dict]:
    """A FROM item `k` with `columns`, holding `rows`, as SQL text and its one bound value."""
    if dialect == "postgresql":
        arrays = ", ".join(f"CAST(:k{i} AS {PG_TYPES[c]}[])" for i, c in enumerate(columns))
        return (f"unnest({arrays}) AS k({', '.join(columns)})",
                {f"k{i}": [row[i] for row in rows] for i in range(len(columns))})
    picks = ", ".join(f"json_extract(value, '$[{i}]') AS {c}" for i, c in enumerate(columns))
    return f"(SELECT {picks} FROM json_each(:k)) AS k", {"k": orjson.dumps(list(rows)).decode()}


async def _run(db: AsyncSession, sql: str, columns: Sequence[str], rows: Sequence[Sequence]):
    if not rows:
        return []
    source, params = row_source(_dialect(db), columns, rows)
    result = await db.execute(text(sql.replace("{source}", source)), params)
    return result.all() if "RETURNING" in sql else []


USER_DAYS = """INSERT INTO usage_user_days (org_id, day, service, user_key, events, minutes)
SELECT k.org_id, k.day, k.service, k.user_key, k.events, k.minutes FROM {source} WHERE true
ON CONFLICT (org_id, day, service, user_key) DO UPDATE SET events = excluded.events, minutes = excluded.minutes
WHERE usage_user_days.events <> excluded.events OR usage_user_days.minutes <> excluded.minutes
RETURNING org_id, day, service, user_key, (events > 0 OR minutes > 0) AS active"""

DAILY_TOTALS = """INSERT INTO usage_daily_totals (org_id, service, day, active_users, events, minutes)
SELECT u.org_id, u.service, u.day, sum(CASE WHEN u.events > 0 OR u.minutes > 0 THEN 1 ELSE 0 END),
       sum(u.events), sum(u.minutes)
FROM {source} JOIN usage_user_days u ON u.org_id = k.org_id AND u.day = k.day AND u.service = k.service
WHERE true GROUP BY u.org_id, u.service, u.day
ON CONFLICT (org_id, service, day) DO UPDATE SET active_users = excluded.active_users, events = excluded.events,
  minutes = excluded.minutes
WHERE (usage_daily_totals.active_users, usage_daily_totals.events, usage_daily_totals.minutes)
  IS DISTINCT FROM (excluded.active_users, excluded.events, excluded.minutes)"""

LAST_ACTIVE_FORWARD = """INSERT INTO usage_user_last_active (org_id, service, user_key, last_active_on)
SELECT k.org_id, k.service, k.user_key, max(k.day) FROM {source} WHERE true GROUP BY k.org_id, k.service, k.user_key
ON CONFLICT (org_id, service, user_key) DO UPDATE SET last_active_on = excluded.last_active_on
WHERE usage_user_last_active.last_active_on < excluded.last_active_on"""

_ACTIVE_DAY_OF_ROW = """SELECT max(u.day) FROM usage_user_days u WHERE u.org_id = usage_user_last_active.org_id
  AND u.service = usage_user_last_active.service AND u.user_key = usage_user_last_active.user_key
  AND (u.events > 0 OR u.minutes > 0)"""
_WAS_LAST = """(org_id, service, user_key, last_active_on) IN (SELECT k.org_id, k.service, k.user_key, k.day FROM {source})"""
LAST_ACTIVE_GONE = f"DELETE FROM usage_user_last_active WHERE {_WAS_LAST} AND ({_ACTIVE_DAY_OF_ROW}) IS NULL"
LAST_ACTIVE_BACK = f"UPDATE usage_user_last_active SET last_active_on = ({_ACTIVE_DAY_OF_ROW}) WHERE {_WAS_LAST}"

CHANGED_ORGS = """INSERT INTO usage_changed_orgs (org_id) SELECT DISTINCT k.org_id FROM {source} WHERE true
ON CONFLICT (org_id) DO NOTHING"""

ASSIGNED = """INSERT INTO usage_assigned_licenses (org_id, service, day, assigned)
SELECT k.org_id, k.service, k.day, k.assigned FROM {source} WHERE true
ON CONFLICT (org_id, service, day) DO UPDATE SET assigned = excluded.assigned
WHERE usage_assigned_licenses.assigned <> excluded.assigned"""


async def write(db: AsyncSession, activities: Sequence[Activity], assignments: Sequence[Assignment]) -> int:
    """Store a batch's good lines (one per key, the last sent) and keep the rollups; returns how many
    per-user rows changed."""
    if _dialect(db) == "postgresql":
        changed = await _write_staged(db, activities)
    else:
        changed = await _write_bound(db, activities)
    await _run(db, ASSIGNED, ("org_id", "day", "service", "assigned"),
               [(a.org_id, a.day, a.service, a.assigned) for a in assignments])
    return changed


async def _write_bound(db: AsyncSession, activities: Sequence[Activity]) -> int:
    """SQLite: the rows as one bound value per statement; the changed rows come back for the rollups."""
    changed = await _run(db, USER_DAYS, USER_COLUMNS, [a[1:] for a in activities])
    keys = sorted({(r[0], r[1], r[2]) for r in changed})
    await _run(db, DAILY_TOTALS, ("org_id", "day", "service"), keys)
    await _run(db, LAST_ACTIVE_FORWARD, CHANGED_COLUMNS, [tuple(r[:4]) for r in changed if r[4]])
    idle = [tuple(r[:4]) for r in changed if not r[4]]
    for statement in (LAST_ACTIVE_GONE, LAST_ACTIVE_BACK):
        await _run(db, statement, CHANGED_COLUMNS, idle)
    await _run(db, CHANGED_ORGS, ("org_id",), sorted({(r[0],) for r in changed}))
    return len(changed)


USER_COLUMNS = ("org_id", "day", "service", "user_key", "events", "minutes")
CHANGED_COLUMNS = ("org_id", "day", "service", "user_key")
#: PostgreSQL: the batch's rows in a temporary table of the connection, emptied at the end of each
#: transaction (so a batch never sees another's).
STAGING = """CREATE TEMPORARY TABLE IF NOT EXISTS usage_batch (org_id bigint, day date, service varchar(16),
  user_key varchar(64), events bigint, minutes bigint) ON COMMIT DELETE ROWS"""
STAGED_IDLE = "(SELECT org_id, day, service, user_key FROM usage_batch WHERE events = 0 AND minutes = 0) AS k"
#: One ingest at a time per org (transaction-scoped advisory locks, taken in org order): the deltas
#: below read the rows they replace before replacing them, so two reports of the same org never
#: interleave (a concurrent release of the org takes the same lock: `forget_users`).
LOCK_CLASS = 0x55534147  # "USAG"
LOCK_ORGS = f"""SELECT count(pg_advisory_xact_lock({LOCK_CLASS}, CAST(org_id % 2147483648 AS integer)))
FROM (SELECT DISTINCT org_id FROM usage_batch ORDER BY org_id) AS o"""
#: The batch written in one statement (PostgreSQL): `{delta}` is each changed row (`changed`, the
#: upsert's) with what it adds to its daily total (the counts less those of the row it replaced, and
#: whether it is activity now and was before). The daily totals move by the differences (a key first
#: reported: its rows' sums), the last active day forward by the changed active rows (an unchanged
#: row moved it when it was stored), the orgs of changed rows are marked; returned: the rows
#: changed, and those that were activity and are now idle (their user's last active day may move
#: back: LAST_ACTIVE_GONE/BACK). New rollup rows are inserted in key order, so an org's rows share
#: pages: the first version inserted them in hash order, an org's 50 last-active rows on 36 pages
#: (a list of 50 trials read 1,800 pages for their adoption; with the order, about 2 a trial).
STAGED_WRITE = """WITH {seen}changed AS (
  INSERT INTO usage_user_days AS u (org_id, day, service, user_key, events, minutes)
  SELECT org_id, day, service, user_key, events, minutes FROM usage_batch
  ON CONFLICT (org_id, day, service, user_key) DO UPDATE SET events = excluded.events, minutes = excluded.minutes
  WHERE u.events <> excluded.events OR u.minutes <> excluded.minutes
  RETURNING org_id, day, service, user_key, events, minutes),
delta AS MATERIALIZED ({delta}),
marked AS (INSERT INTO usage_changed_orgs (org_id) SELECT DISTINCT org_id FROM delta ON CONFLICT (org_id) DO NOTHING),
totals AS (
  INSERT INTO usage_daily_totals AS t (org_id, service, day, active_users, events, minutes)
  SELECT org_id, service, day, sum(CAST(active AS integer) - CAST(was_active AS integer)), sum(events), sum(minutes)
  FROM delta GROUP BY org_id, service, day ORDER BY org_id, service, day
  ON CONFLICT (org_id, service, day) DO UPDATE SET active_users = t.active_users + excluded.active_users,
    events = t.events + excluded.events, minutes = t.minutes + excluded.minutes
  WHERE excluded.active_users <> 0 OR excluded.events <> 0 OR excluded.minutes <> 0),
forward AS (
  INSERT INTO usage_user_last_active AS l (org_id, service, user_key, last_active_on)
  SELECT org_id, service, user_key, max(day) FROM delta WHERE active GROUP BY org_id, service, user_key
  ORDER BY org_id, service, user_key
  ON CONFLICT (org_id, service, user_key) DO UPDATE SET last_active_on = excluded.last_active_on
  WHERE l.last_active_on < excluded.last_active_on)
SELECT count(*), count(*) FILTER (WHERE was_active AND NOT active) FROM delta"""
#: The batch's (org, day, service) keys that have rows already (a day reported before, or a key's
#: users split over several reports), found by one index probe each.
_SEEN = """SELECT k.org_id, k.day, k.service FROM (SELECT DISTINCT org_id, day, service FROM usage_batch) AS k
  CROSS JOIN LATERAL (SELECT FROM usage_user_days AS u WHERE u.org_id = k.org_id AND u.day = k.day
    AND u.service = k.service LIMIT 1) AS found"""
ANY_SEEN = f"SELECT EXISTS ({_SEEN})"
#: Every key of the batch is new (the usual report: a new day): every changed row is new.
WRITE_NEW = STAGED_WRITE.format(seen="", delta="""SELECT org_id, day, service, user_key,
  events > 0 OR minutes > 0 AS active, false AS was_active, events, minutes FROM changed""")
#: Some keys have rows: the changed rows of those keys read the row they replace (`o`, in the
#: statement's snapshot: before the upsert); the others are new.
WRITE_SEEN = STAGED_WRITE.format(seen=f"seen AS MATERIALIZED ({_SEEN}),\n", delta="""
  SELECT c.org_id, c.day, c.service, c.user_key, c.events > 0 OR c.minutes > 0 AS active,
    coalesce(o.events > 0 OR o.minutes > 0, false) AS was_active,
    c.events - coalesce(o.events, 0) AS events, c.minutes - coalesce(o.minutes, 0) AS minutes
  FROM changed AS c LEFT JOIN seen AS s ON s.org_id = c.org_id AND s.day = c.day AND s.service = c.service
  LEFT JOIN LATERAL (SELECT o.events, o.minutes FROM usage_user_days AS o WHERE s.org_id IS NOT NULL
    AND o.org_id = c.org_id AND o.day = c.day AND o.service = c.service AND o.user_key = c.user_key LIMIT 1) AS o
    ON true""")


async def _write_staged(db: AsyncSession, activities: Sequence[Activity]) -> int:
    """PostgreSQL: the rows copied (COPY, the fastest way in) into `usage_batch` and written from
    there by one statement (STAGED_WRITE: WRITE_NEW when no key of the batch has rows yet, as a
    new day's report, else WRITE_SEEN) with every rollup: no row travels back to Python, each
    rollup row is written once per batch, a re-sent batch writes nothing. Only when a row that was
    activity is reported idle do the last active days of the batch's idle rows get recomputed."""
    if not activities:
        return 0
    driver = await set_based.driver(db)
    await driver.execute(STAGING)
    await driver.copy_records_to_table("usage_batch", records=[a[1:] for a in activities], columns=USER_COLUMNS)
    await driver.fetchval(LOCK_ORGS)
    changed, gone = await driver.fetchrow(WRITE_SEEN if await driver.fetchval(ANY_SEEN) else WRITE_NEW)
    if gone:
        for statement in (LAST_ACTIVE_GONE, LAST_ACTIVE_BACK):
            await driver.execute(statement.replace("{source}", STAGED_IDLE))
    return changed


# --- PostgreSQL partitions and retention (R-USE-08) ---

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


async def ensure_partitions(db: AsyncSession, months: Iterable[date]) -> list[str]:
    """Create the monthly partitions among `months` that do not exist (PostgreSQL; nothing on
    SQLite); returns the names created. Run in a transaction of its own: DDL locks the parent."""
    if _dialect(db) != "postgresql":
        return []
    existing = await partitions(db)
    created = []
    for month in sorted(set(months) - set(existing)):
        name = partition_name(month)
        await db.execute(text(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {PARENT} "
                              f"FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"))
        created.append(name)
    return created


async def retention(db: AsyncSession, today: date) -> list[str]:
    """R-USE-08: per-user rows older than 400 days go. On PostgreSQL whole months are dropped (their
    partitions); the boundary month's older days and old last-active rows are deleted. Returns the
    partitions dropped."""
    cutoff = horizon(today)
    dropped = []
    if _dialect(db) == "postgresql":
        for month, name in sorted((await partitions(db)).items()):
            if next_month(month) <= cutoff:
                await db.execute(text(f"DROP TABLE IF EXISTS {name}"))
                dropped.append(name)
    await db.execute(text("DELETE FROM usage_user_days WHERE day < :cutoff"), {"cutoff": cutoff})
    await db.execute(text("DELETE FROM usage_user_last_active WHERE last_active_on < :cutoff"), {"cutoff": cutoff})
    return dropped


async def forget_users(db: AsyncSession, org_id: int, services: Sequence[str]) -> None:
    """R-USE-08, on release: the org's per-user rows of these services go; daily totals stay (on
    PostgreSQL after any ingest of the org in progress: its lock, LOCK_ORGS)."""
    if _dialect(db) == "postgresql":
        await db.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, CAST(:org % 2147483648 AS integer))"),
                         {"org": org_id})
    for table in ("usage_user_days", "usage_user_last_active"):
        await db.execute(text(f"DELETE FROM {table} WHERE org_id = :org AND service IN :services")
                         .bindparams(bindparam("services", expanding=True)), {"org": org_id, "services": list(services)})


async def on_release(db: AsyncSession, trial) -> None:
    """R-USE-08 on release (R-TIME-05): the per-user rows of the trial's services go (the daily
    totals per service stay). Decision: only the released trial's services; an org that keeps living
    keeps the per-user usage of its other services."""
    services = await db.scalars(text("SELECT DISTINCT service FROM trial_services WHERE trial_id = :trial"),
                                {"trial": trial.id})
    await forget_users(db, trial.customer_id, list(services))
