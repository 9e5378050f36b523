"""R-USE-08: usage kept on conversion, per-user rows gone on release (daily totals stay) and past
400 days; on PostgreSQL whole monthly partitions, created ahead and dropped by the worker."""
from __future__ import annotations

from datetime import timedelta

from jobs.sweep import run_due
from server import clock
from server.domain.usage import partitions
from tests.timeline.conftest import new_customer_trial
from tests.usage.conftest import activity, last_active, rows, send
from tests.usage.test_ingest import TOTALS, USER_ROWS

PARTITIONS = ("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
              "WHERE i.inhparent = 'usage_user_days'::regclass ORDER BY 1")


async def test_r_use_08_release_deletes_the_per_user_rows_and_keeps_the_daily_totals(client, sessionmaker, life,
                                                                                    platform):
    t = await new_customer_trial(sessionmaker)
    await life.advance(1)
    day = clock.today()
    answer = await send(client, platform, [activity(t.customer_id, day, "MEETINGS", "k1", 2, 60),
                                           activity(t.customer_id, day, "MEETINGS", "k2", 1, 30)])
    assert answer.json() == {"accepted": 2, "rejected": []}
    await life.until(100)                                  # expired, in grace: still there
    assert len(await rows(sessionmaker, USER_ROWS, org=t.customer_id)) == 2
    await life.until(121)                                  # released for good (R-TIME-05)
    assert await rows(sessionmaker, USER_ROWS, org=t.customer_id) == []
    assert await last_active(sessionmaker, t.customer_id) == []
    assert [(str(d), s, a, e, m) for d, s, a, e, m in await rows(sessionmaker, TOTALS, org=t.customer_id)] == [
        (str(day), "MEETINGS", 2, 3, 90)]
    again = await send(client, platform, [activity(t.customer_id, clock.today(), "MEETINGS", "k1", 1)])
    assert [(r["code"], r["field"]) for r in again.json()["rejected"]] == [("NOT_FOUND", "org")]


async def test_r_use_08_the_worker_makes_months_ahead_and_drops_what_is_past_400_days(client, sessionmaker, runtime,
                                                                                     platform):
    from tests.factories import existing_customer

    org = await existing_customer(sessionmaker)
    today = clock.today()
    old = today - timedelta(days=399)
    await send(client, platform, [activity(org, old, "CALLING", "old", 1, 3), activity(org, today, "CALLING", "new", 1, 3)])
    await run_due(runtime)
    postgres = runtime.engine.dialect.name == "postgresql"
    if postgres:
        made = [name for (name,) in await rows(sessionmaker, PARTITIONS)]
        assert {partitions.partition_name(m) for m in partitions.months_needed(today)} <= set(made)  # next month too
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=40))
    await run_due(runtime)
    assert [u for _, _, u, _, _ in await rows(sessionmaker, USER_ROWS, org=org)] == ["new"]
    assert [u for _, _, u, _ in await last_active(sessionmaker, org)] == ["new"]
    assert len(await rows(sessionmaker, TOTALS, org=org)) == 2                   # daily totals stay
    if postgres:
        left = [name for (name,) in await rows(sessionmaker, PARTITIONS)]
        assert partitions.partition_name(partitions.month_of(old)) not in left
        assert {partitions.partition_name(m) for m in partitions.months_needed(clock.today())} <= set(left)
        assert min(left) == partitions.partition_name(partitions.month_of(partitions.horizon(clock.today())))


async def test_r_use_08_an_ingest_makes_a_missing_month_from_its_first_day(client, sessionmaker, platform):
    """A line for the first day of a month whose partition is missing (PostgreSQL: dropped here) is
    kept: the ingest makes the month, from its 1st to the next 1st. Kills `partitions.month_of` giving
    the 2nd (a survivor of `make mutate`: the partition made would start on the 2nd and the 1st's
    line would have no partition). On SQLite (no partitions) the line is kept as well."""
    from sqlalchemy import text

    from tests.factories import existing_customer

    org = await existing_customer(sessionmaker)
    first = (clock.today().replace(day=1) - timedelta(days=40)).replace(day=1)
    name = partitions.partition_name(first)
    if sessionmaker.kw["bind"].dialect.name == "postgresql":
        async with sessionmaker() as db, db.begin():
            await db.execute(text(f"DROP TABLE IF EXISTS {name}"))
    answer = await send(client, platform, [activity(org, first, "CALLING", "k1", 2, 15)])
    assert answer.json() == {"accepted": 1, "rejected": []}
    assert [(str(d), u) for d, _, u, _, _ in await rows(sessionmaker, USER_ROWS, org=org)] == [(str(first), "k1")]
    if sessionmaker.kw["bind"].dialect.name == "postgresql":
        bounds = await rows(sessionmaker, "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = :n",
                            n=name)
        assert bounds == [(f"FOR VALUES FROM ('{first}') TO ('{partitions.next_month(first)}')",)]
