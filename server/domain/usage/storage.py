"""The SQL of usage (SPEC §10): per-user days and their rollups, written set-based in the ingest's
own transaction.

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
   (or leaves the object) (`move_last_active`; PostgreSQL: only when a row that was activity is now
   idle). The rollup `usage_last_active` holds one row per (org, service): a JSON object {user key:
   the user's last active day as a number of days after DAY_ZERO} (migration 0020), so a batch
   rewrites one row per (org, service) it touches (~400 for 10,000 lines) where the per-user table
   took one update per active user (~8,000), and a trial's adoption reads one row per service;
4. assigned licenses upserted;
5. the orgs of the changed rows marked in `usage_changed_orgs`: the next daily evaluation of health
   looks at their trials (R-USE-07, server.domain.usage.evaluation).
PostgreSQL: one ingest at a time per org (LOCK_ORGS, transaction-scoped advisory locks): the
differences of step 2 read the replaced rows before replacing them. tests/usage/test_rollups.py
checks the rollups against a recomputation after random sequences of reports on both backends.

Measured (bench/usage.py, 2026-12-07): the COPY-staged path was 1.1-2.3x the bound-array one; over
HTTP the ingest went from 0.23-0.25x the raw floor (statement per rollup, load 11-20) to 0.37-0.53x
with the one statement and the lean line reader (load 3-8). Then the per-user last-active table
(8,000 row updates per 10,000 lines, 184 ms against 77 ms for the batch's inserted rows, load ~8;
0.41x the floor at load 1-2) became one object per (org, service): its part of the statement
~29 → ~17 ms (EXPLAIN ANALYZE, a new day's 10,000 lines for 200 orgs, load ~4); 0.46x (load 3-4).
Then the live-org check on the driver, no partition look-up per batch, the batch's last active days
grouped once, a new day's rollups read from the staged batch (WRITE_NEW, no RETURNING) and the
seen-check on the daily totals: 0.50-0.54x (load 3-8). A big org's object is rewritten whole by each batch of its lines (O(its users),
as the batch is).

Partitions, retention and release (R-USE-08): server.domain.usage.partitions.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.timeline import set_based
from server.domain.usage.lines import Activity, Assignment

PARENT = "usage_user_days"
PG_TYPES = {"org_id": "bigint", "day": "date", "service": "varchar", "user_key": "varchar", "events": "bigint",
            "minutes": "bigint", "assigned": "integer", "days": "varchar"}
#: The last active days are stored as numbers of days after this one (usage_last_active.days).
DAY_ZERO = date(2000, 1, 1)
_ZERO = DAY_ZERO.toordinal()


def day_number(day: date) -> int:
    return day.toordinal() - _ZERO


def number_day(number: int) -> date:
    return date.fromordinal(number + _ZERO)


def _as_day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def as_object(value) -> dict:
    """A JSON column's value: decoded by the driver (PostgreSQL's jsonb) or JSON text (SQLite)."""
    return orjson.loads(value) if isinstance(value, (str, bytes)) else dict(value)


def dialect_name(db: AsyncSession) -> str:
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
    """`sql` over `rows` (its FROM item `{source}`, `{json}`: the JSON column's type); the rows it
    returns (SELECT or RETURNING)."""
    if not rows:
        return []
    dialect = dialect_name(db)
    source, params = row_source(dialect, columns, rows)
    sql = sql.replace("{source}", source).replace("{json}", "jsonb" if dialect == "postgresql" else "text")
    result = await db.execute(text(sql), params)
    return result.all() if "RETURNING" in sql or sql.startswith("SELECT") else []


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

#: The last-active rows (one per org and service) of the pairs `{source}`.
READ_LAST_ACTIVE = """SELECT l.org_id, l.service, l.days FROM {source}
JOIN usage_last_active AS l ON l.org_id = k.org_id AND l.service = k.service"""
#: Each user's last active day on a service, from the stored per-user days (NULL: none is activity).
ACTIVE_DAY_OF_USER = """SELECT k.org_id, k.service, k.user_key, (SELECT max(u.day) FROM usage_user_days AS u
  WHERE u.org_id = k.org_id AND u.service = k.service AND u.user_key = k.user_key AND (u.events > 0 OR u.minutes > 0))
FROM {source}"""
WRITE_LAST_ACTIVE = """INSERT INTO usage_last_active (org_id, service, days)
SELECT k.org_id, k.service, CAST(k.days AS {json}) FROM {source} WHERE true
ON CONFLICT (org_id, service) DO UPDATE SET days = excluded.days"""

CHANGED_ORGS = """INSERT INTO usage_changed_orgs (org_id) SELECT DISTINCT k.org_id FROM {source} WHERE true
ON CONFLICT (org_id) DO NOTHING"""

ASSIGNED = """INSERT INTO usage_assigned_licenses (org_id, service, day, assigned)
SELECT k.org_id, k.service, k.day, k.assigned FROM {source} WHERE true
ON CONFLICT (org_id, service, day) DO UPDATE SET assigned = excluded.assigned
WHERE usage_assigned_licenses.assigned <> excluded.assigned"""


async def write(db: AsyncSession, activities: Sequence[Activity], assignments: Sequence[Assignment]) -> int:
    """Store a batch's good lines (one per key, the last sent) and keep the rollups; returns how many
    per-user rows changed."""
    if dialect_name(db) == "postgresql":
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
    forward: dict[tuple[int, str], dict[str, int]] = {}
    for org, day, service, user, active in changed:
        if active:
            users, number = forward.setdefault((org, service), {}), day_number(_as_day(day))
            if users.get(user, -1) < number:
                users[user] = number
    await move_last_active(db, forward, [(r[0], _as_day(r[1]), r[2], r[3]) for r in changed if not r[4]])
    await _run(db, CHANGED_ORGS, ("org_id",), sorted({(r[0],) for r in changed}))
    return len(changed)


async def move_last_active(db: AsyncSession, forward: dict[tuple[int, str], dict[str, int]],
                           idle: Sequence[tuple[int, date, str, str]]) -> None:
    """The last active days (usage_last_active) moved forward by `forward` ({(org, service): {user:
    day number}}: a day replaces only an earlier one) and back for the users of `idle` (changed rows
    that are not activity: org, day, service, user) whose last active day was that day: recomputed
    from their stored days, or gone. Read, merged here and written back: SQLite's whole step, and
    PostgreSQL's rare one (activity reported idle after all; its forward step is in STAGED_WRITE)."""
    pairs = sorted(set(forward) | {(org, service) for org, _, service, _ in idle})
    if not pairs:
        return
    stored = {(org, service): as_object(days)
              for org, service, days in await _run(db, READ_LAST_ACTIVE, ("org_id", "service"), pairs)}
    touched = set()
    for pair, users in forward.items():
        days = stored.setdefault(pair, {})
        for user, number in users.items():
            if days.get(user, -1) < number:
                days[user] = number
                touched.add(pair)
    back = sorted({(org, service, user) for org, day, service, user in idle
                   if stored.get((org, service), {}).get(user) == day_number(day)})
    for org, service, user, last in await _run(db, ACTIVE_DAY_OF_USER, ("org_id", "service", "user_key"), back):
        if last is None:
            del stored[(org, service)][user]
        else:
            stored[(org, service)][user] = day_number(_as_day(last))
        touched.add((org, service))
    await _run(db, WRITE_LAST_ACTIVE, ("org_id", "service", "days"),
               [(org, service, orjson.dumps(stored[(org, service)]).decode()) for org, service in sorted(touched)])


USER_COLUMNS = ("org_id", "day", "service", "user_key", "events", "minutes")
#: PostgreSQL: the batch's rows in a temporary table of the connection, emptied at the end of each
#: transaction (so a batch never sees another's).
STAGING = """CREATE TEMPORARY TABLE IF NOT EXISTS usage_batch (org_id bigint, day date, service varchar(16),
  user_key varchar(64), events bigint, minutes bigint) ON COMMIT DELETE ROWS"""
STAGED_IDLE = "SELECT org_id, day, service, user_key FROM usage_batch WHERE events = 0 AND minutes = 0"
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
#: back: `move_last_active`). The last active days: per (org, service) of the batch, its active
#: users' days (`fresh`), those later than the stored ones (`moved`: each user's day read in the
#: stored object by key; in day order, so of a user's several days the latest stays in the object)
#: merged into the row (`forward`) or a new row (`added`; its conflict
#: clause merges too, though under LOCK_ORGS no other ingest of the org inserts it meanwhile). New
#: rollup rows are inserted in key order, so an org's rows share pages.
STAGED_WRITE = """WITH {seen}changed AS (
  INSERT INTO usage_user_days AS u (org_id, day, service, user_key, events, minutes)
  SELECT org_id, day, service, user_key, events, minutes FROM usage_batch
  ON CONFLICT (org_id, day, service, user_key) DO UPDATE SET events = excluded.events, minutes = excluded.minutes
  WHERE u.events <> excluded.events OR u.minutes <> excluded.minutes
  {returning}),
delta AS {materialized} ({delta}),
marked AS (INSERT INTO usage_changed_orgs (org_id) SELECT DISTINCT org_id FROM delta ON CONFLICT (org_id) DO NOTHING),
totals AS (
  INSERT INTO usage_daily_totals AS t (org_id, service, day, active_users, events, minutes)
  SELECT org_id, service, day, sum(CAST(active AS integer) - CAST(was_active AS integer)), sum(events), sum(minutes)
  FROM delta GROUP BY org_id, service, day ORDER BY org_id, service, day
  ON CONFLICT (org_id, service, day) DO UPDATE SET active_users = t.active_users + excluded.active_users,
    events = t.events + excluded.events, minutes = t.minutes + excluded.minutes
  WHERE excluded.active_users <> 0 OR excluded.events <> 0 OR excluded.minutes <> 0),
fresh AS (
  SELECT org_id, service, array_agg(user_key) AS users, array_agg(day - DATE '{zero}') AS days FROM delta
  WHERE active GROUP BY org_id, service),
moved AS (
  SELECT f.org_id, f.service, l.days IS NULL AS new,
    (SELECT jsonb_object_agg(u.user_key, u.day ORDER BY u.day) FROM unnest(f.users, f.days) AS u(user_key, day)
     WHERE u.day > coalesce(CAST(l.days ->> u.user_key AS integer), -1)) AS patch
  FROM fresh AS f LEFT JOIN LATERAL (SELECT o.days FROM usage_last_active AS o
    WHERE o.org_id = f.org_id AND o.service = f.service) AS l ON true),
forward AS (
  UPDATE usage_last_active AS l SET days = l.days || m.patch FROM moved AS m
  WHERE m.patch IS NOT NULL AND NOT m.new AND l.org_id = m.org_id AND l.service = m.service),
added AS (
  INSERT INTO usage_last_active AS l (org_id, service, days)
  SELECT org_id, service, patch FROM moved WHERE new ORDER BY org_id, service
  ON CONFLICT (org_id, service) DO UPDATE SET days = l.days || (SELECT jsonb_object_agg(n.key, n.value)
    FROM jsonb_each(excluded.days) AS n WHERE coalesce(CAST(l.days ->> n.key AS integer), -1) < CAST(n.value AS integer))
  WHERE EXISTS (SELECT FROM jsonb_each(excluded.days) AS n
    WHERE coalesce(CAST(l.days ->> n.key AS integer), -1) < CAST(n.value AS integer)))
SELECT count(*), count(*) FILTER (WHERE was_active AND NOT active) FROM delta"""
#: The batch's (org, day, service) keys that may have rows already (a day reported before, or a key's
#: users split over several reports): those with a daily total, found by one index probe each. A key
#: gets its total in the statement that stores its first rows, and keeps it when they go (release,
#: retention), so every key with rows is among them (one without rows only reads no replaced row).
#: Probed in usage_user_days, each probe went through its 15 monthly partitions (run-time pruning):
#: 8.2 → 4.7 ms a new day's batch (load ~4).
_SEEN = """SELECT k.org_id, k.day, k.service FROM (SELECT DISTINCT org_id, day, service FROM usage_batch) AS k
  CROSS JOIN LATERAL (SELECT FROM usage_daily_totals AS t WHERE t.org_id = k.org_id AND t.service = k.service
    AND t.day = k.day) AS found"""
ANY_SEEN = f"SELECT EXISTS ({_SEEN})"
#: Every key of the batch is new (the usual report: a new day): every changed row is new.
#: Every row of the batch is then inserted (its keys are unique: `ingest.store`; no other ingest of
#: its orgs runs meanwhile: LOCK_ORGS), so the rollups read the staged batch itself: no row comes
#: back from the insert (its RETURNING and a materialized copy of 10,000 rows cost ~5-10 ms a batch).
WRITE_NEW = STAGED_WRITE.format(zero=DAY_ZERO, seen="", returning="", materialized="NOT MATERIALIZED",
                                delta="""SELECT org_id, day, service, user_key,
  events > 0 OR minutes > 0 AS active, false AS was_active, events, minutes FROM usage_batch""")
#: Some keys have rows: the changed rows of those keys read the row they replace (`o`, in the
#: statement's snapshot: before the upsert); the others are new.
WRITE_SEEN = STAGED_WRITE.format(zero=DAY_ZERO, seen=f"seen AS MATERIALIZED ({_SEEN}),\n",
                                 returning="RETURNING org_id, day, service, user_key, events, minutes",
                                 materialized="MATERIALIZED", delta="""
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
        await move_last_active(db, {}, [tuple(row) for row in await driver.fetch(STAGED_IDLE)])
    return changed


async def last_active(db: AsyncSession, org_ids: Iterable[int]) -> list[tuple[int, str, str, date]]:
    """Every (org, service, user, last active day) of the orgs, sorted: the last-active rollup read
    back per user (tests, tools)."""
    found = []
    for org, service, days in await _run(db, "SELECT l.org_id, l.service, l.days FROM {source} "
                                         "JOIN usage_last_active AS l ON l.org_id = k.org_id",
                                         ("org_id",), [(org,) for org in sorted(set(org_ids))]):
        found += [(org, service, user, number_day(day)) for user, day in as_object(days).items()]
    return sorted(found)
