"""Sweep benchmark (issue 6): 100k trials on PostgreSQL with their end deadlines (400k rows), then
1k and 10k TRIAL_EXPIRY deadlines made due. Prints the claim query's time (it must grow with the
due rows, not the total), and transitions/s through the real handlers (lock, state machine, audit,
recipients, outbox rows): one by one (a savepoint per row, the path a failing batch falls back to)
and batched, with 1 worker process and with 2 (timed from a common start, process start-up
excluded), each phase checked for zero double-processing.

Figures (2 shared cores, 2 runs each, same machine, 2026-11-25), transitions/s:

                                   rendered rows, 6 indexes    context rows, 3 indexes (0003)
    one by one, 1k, 1 worker               190-197                     186-192
    batched, 1k, 1 worker                2,840-2,880                 4,870-4,980
    batched, 10k, 1 worker               4,440-4,690                 4,960-5,410
    batched, 10k, 2 workers              7,130-7,440                 8,570-9,280 (9,830 once)

2026-11-29 (issue 6's throughput). The machine's load average was 3-8 on its 2 cores during
every run (other engineers' benches), so the wall-clock rates below say little; CPU per
transition (worker: process_time; database: the backends' /proc schedstat) is what to compare.
400k deadline rows, 100k trials:

                                        before (16e6ac8)              after (65fcba7)
                                  worker   database   tr/s      worker   database   tr/s
    batched, 1k due, 1 w x 1 lane    209      269        867      208      240      2,097
    batched, 10k due, 1 w x 1 lane   189      208      1,225      136-137  159-161  1,020-3,187
    batched, 10k due, 1 w x 2 lanes  153      189      1,227      134-145  156-177  1,495-3,499
    batched, 10k due, 2 w x 1 lane   167      194      1,769      103-128  131-170  1,062-4,700
    batched, 10k due, 2 w x 2 lanes  173      199      1,437      127-130  156-164  2,643-4,211
    claim (EXPLAIN ANALYZE, 1000 of 10k due)   51-78 ms                   7-40 ms

`python -m bench.sweep profile` (one worker, one lane, 10k due of 30k trials, in-process) splits
the database's CPU per statement. Before → after, database us per transition: claim 101 → 10-12
(ORDER BY due_at, id on an index of due_at alone sorted every row due at the same instant, and
probed each for an earlier open row of its subject, in every batch: the claim's cost grew with
the rows due; migration 0004 indexes (due_at, id) over open rows, so a batch reads its LIMIT and
stops, and the earlier-row probe reads an index of open rows by subject and due time), marking
done 16 → 11 (done rows leave both partial indexes, nothing to add to them), outbox insert ~50
(two rows), trial update ~27, audit insert ~11-13, loads ~12; in all 221 → 115-125 us. Worker,
same mode: 178 → 123-152 us: the unnest statements' SQL built once per shape and run through the
asyncpg driver (SQLAlchemy's parameter processing of the thousand-element arrays went away),
orjson for the JSON columns, partner admins computed once per (partner, starter), no identity
key per moved trial. When the machine was quieter, the same profile read worker 84-108 us and
database 76-89 us per transition: CPU figures move with the load too.

The claim's cost now depends on the batch (LIMIT) and on rows due, never on the total rows: 0.04
ms with 0 due of 400k rows; at most a batch of index entries and probes with any number due
(plus done rows' index entries not yet vacuumed).

Not reached then (2026-11-29): ≥ 10k/s with 1 worker. The sum of both sides is ~270-300 us per transition on this
loaded machine (~175-200 us when quieter): 10k/s needs ≤ ~200 us on 2 free cores. What remains,
per transition: the database's index maintenance (the trial's state is indexed, so its update is
not HOT and adds an entry to each of the 6 trials indexes; audit_events has 4 indexes; each
outbox row 3 plus ON CONFLICT's speculative insertion); the worker's per-row Python (plans,
contexts, Email and row dicts), asyncpg's per-element array encoding (an ABC isinstance check per
element, ~35 elements per transition) and GC (~20 us; a worker that calls gc.freeze() after
start-up pays ~9). Tried and dropped: NOT EXISTS instead of ON CONFLICT DO NOTHING for the outbox
(no gain within noise); batch sizes 500/1000/2500 (no clear difference). The one-by-one path
(the fallback of a failing batch) costs ~7-13 ms of worker CPU per transition (21-94/s here,
186-197/s on 2026-11-25), already so before these changes; not investigated.

Quiet machine (load ~1.5), final code (plus gc.freeze() in the worker), 2026-11-29 23:00: 1k due,
1 worker 2,254/s (worker 208 / database 226 us); 10k due: 1 worker x 1 lane 3,514/s (127 / 153),
1 worker x 2 lanes 5,424/s (112 / 158), 2 workers x 1 lane 7,586/s (105 / 134), 2 workers x 2
lanes 5,866/s (123 / 177); one by one 73/s; every phase OK (no double processing). About 260-290
us of CPU per transition in all: 2 cores give ~7k/s at best, so ≥ 10k/s with one worker is not
reached.

2026-11-30: the trial end rules as one PostgreSQL statement per batch (server/domain/trials/sql.py,
held equal to the Python plans row for row by tests/trials/test_end_of_life_sql.py). CPU per transition,
`profile` (10k due of 30k trials, one lane), worker / database:
    before (the plans, set-based)                       132 / ~115
    one statement (lock or move, names, audit, recipients, outbox)       19 / 125-534
      - a generic plan after five runs: the CTEs' row estimates fall to 1 and they join in nested
        loops, a thousand by a thousand (534); planned per call (`force_custom_plan`)   19 / 125
    trials by primary key, fillfactor 50 and no state index (HOT update: 27 -> 8 ms per 1000),
      Message-IDs by md5 of salt + key (gen_random_uuid cost 6 us an email)            19 / ~105
    audit_events one index (customer_id, at, id) instead of three (0006)               20 / 101
    claimed rows as NamedTuples, id arrays as text (a Row attribute ~2 us, asyncpg's ABC checks
      ~2.5 us an element)                                                               14 / 100
The database's 100 us: the statement 80 (trials update 8, names and recipients ~20, audit event ~10,
two outbox rows ~40), the claim 9, marking done 9. The outbox row is the floor of this schema: a
heap row and three index entries (primary key, dedup key, unsent), ON CONFLICT's speculative
insertion ~2 us of it. A batch also commits asynchronously now (synchronous_commit off for the sweep's
transaction; why that is safe: jobs/sweep.py), which took ~10 ms of waiting per batch of 1000.

Quiet machine (load ~1.1-1.3, nothing else running), 2026-11-30 02:08 and 02:09, two runs, 400k
deadline rows, 100k trials, transitions/s (worker / database CPU us per transition):
    1k due, 1 worker x 1 lane             7,219 / 6,626     (25-33 / 113-117)
    10k due, 1 worker x 1 lane            9,071 / 8,406     (14-18 / 96-101)
    10k due, 1 worker x 2 lanes (default) 12,771 / 12,498   (14-15 / 123-127)
    10k due, 1 worker x 3 lanes           12,158 / 13,158   (16-17 / 119-125)
    10k due, 2 workers x 1 lane           12,887 / 14,888   (15-17 / 110-120)
    10k due, 2 workers x 2 lanes          10,718 / 12,059   (16-20 / 132-147)
    one by one, 1k                        159 / 142
every phase OK (each deadline done once, each expiry audited once, two emails per trial, no dedup
key twice). Issue 6's target (≥ 10k/s with one worker) is met with the default two lanes; two
workers add up to ~15k/s. The ceiling is the two cores: ~135 us of CPU per transition in all, the
database's share ~120, so four connections (2 x 2) only contend. Under the other engineers' load
(load 3-7) the same code gave 4.8-6.4k/s with two lanes, 9.9k/s at load 3.

    uv run python -m bench.sweep            # TRIALDESK_BENCH_PG to point elsewhere; own throw-away database
    uv run python -m bench.sweep profile [N] # N due (10k): worker CPU, cProfile, database CPU per statement;
                                            # TRIALDESK_BENCH_ONE_BY_ONE=1, TRIALDESK_BENCH_GC_FREEZE=1
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import time

from bench import scratch

PG = os.environ.get("TRIALDESK_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TRIALS = int(os.environ.get("TRIALDESK_BENCH_TRIALS", "100000"))
BATCH = int(os.environ.get("TRIALDESK_BENCH_BATCH", "1000"))      # deadlines per sweep batch (jobs.sweep.BATCH)
BATCHED = os.environ.get("TRIALDESK_BENCH_ONE_BY_ONE") is None     # profile mode: the one-by-one path instead

ARRANGE = [
    "INSERT INTO partner_orgs (id, name, certified, tier, locale, created_at) VALUES (1, 'Bench Partner', true, 'TIER1', 'en', now())",
    "INSERT INTO users (id, partner_id, email, name, locale, active, created_at) VALUES (1, 1, 'pa@bench.example', '', 'en', true, now())",
    "INSERT INTO role_grants (user_id, role) VALUES (1, 'PARTNER_ADMIN')",
    """INSERT INTO customer_orgs (id, name, business_vertical, country, region, admin_email, managing_partner_id,
         provisioning_status, subscription_status, locale, region_locked, created_at)
       SELECT g, 'Customer ' || g, 'Other', 'NO', 'EU', 'a' || g || '@c.example', 1, 'PROVISIONED', 'ACTIVE', 'en', true, now()
       FROM generate_series(1, {n}) g""",
    """INSERT INTO customer_users (id, customer_id, email, name, role, locale, created_at)
       SELECT g, g, 'a' || g || '@c.example', '', 'FULL_ADMIN', CASE WHEN g % 2 = 0 THEN 'nb' ELSE 'en' END, now()
       FROM generate_series(1, {n}) g""",
    """INSERT INTO trials (id, customer_id, partner_id, started_by_user_id, kind, state, license_count, duration_days,
         starts_at, ends_at, grace_ends_at, setup_now, version, created_at)
       SELECT g, g, 1, 1, 'NEW_CUSTOMER', 'ACTIVE', 10, 90, now(), now() + interval '60 days',
              now() + interval '90 days', false, 1, now() FROM generate_series(1, {n}) g""",
    """INSERT INTO deadlines (kind, subject_type, subject_id, due_at, attempts, created_at)
       SELECT k, 'Trial', g, now() + interval '60 days', 0, now()
       FROM generate_series(1, {n}) g, unnest(ARRAY['trial_warning','trial_expiry','users_access_ended','grace_end']) k""",
    "SELECT setval(pg_get_serial_sequence('customer_users', 'id'), {n})",
    "ANALYZE",
]


def make_due(first: int, last: int) -> str:
    """Trials first..last reach their end now: their expiry deadline is due."""
    return (f"UPDATE trials SET ends_at = now() - interval '1 minute' WHERE id BETWEEN {first} AND {last};"
            f"UPDATE deadlines SET due_at = now() - interval '1 minute' WHERE kind = 'trial_expiry' "
            f"AND subject_id BETWEEN {first} AND {last}")


async def settle(db) -> None:
    """After `make_due`: the trials' pages as they are when a trial ends in production. Its end
    date was set months before (at the start or an extension) and vacuumed since, and its page has
    the room fillfactor 50 keeps (migration 0005) for the expiry's HOT update. make_due's own update
    of ends_at a moment ago filled that room; VACUUM FULL gives it back. Without it a fifth to a
    half of the expiries are HOT, and the statement costs ~10-20 µs more per transition."""
    await db.execute("VACUUM FULL trials")
    await db.execute("VACUUM (ANALYZE) trials, deadlines")


def _cpu_seconds(pids: list[int]) -> float | None:
    """CPU time the database backends `pids` have used (Linux, database on this machine), else None."""
    try:
        total = 0
        for pid in pids:
            with open(f"/proc/{pid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError):
        return None


def _worker(url: str, batched: bool, lanes: int, ready, go, out) -> None:
    """One worker process: start up, wait for the others, then sweep until nothing is due."""
    os.environ["DATABASE_URL"] = url
    os.environ["SMTP_HOST"] = ""
    from sqlalchemy import text

    from jobs import sweep
    from jobs.runtime import Runtime
    from jobs.sweep import run_deadlines
    from server.settings import Settings

    sweep.BATCH = BATCH

    async def backend_pid(runtime, hold) -> int:
        async with runtime.engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
            await hold.wait()
            return pid

    async def go_sweep() -> tuple[int, float, float, float, float | None]:
        runtime = Runtime.create(Settings(DATABASE_URL=url))
        try:
            hold = asyncio.Event()                  # a warm pool, like a running worker: one connection per lane
            tasks = [asyncio.create_task(backend_pid(runtime, hold)) for _ in range(lanes)]
            await asyncio.sleep(0.2)
            hold.set()
            pids = await asyncio.gather(*tasks)
            ready.set()
            go.wait()
            started, cpu, db_cpu = time.time(), time.process_time(), _cpu_seconds(pids)
            done = (await run_deadlines(runtime, batched=batched, lanes=lanes)).deadlines
            ended, cpu, db_end = time.time(), time.process_time() - cpu, _cpu_seconds(pids)
            return done, started, ended, cpu, (db_end - db_cpu if db_cpu is not None and db_end is not None else None)
        finally:
            await runtime.close()

    out.put(asyncio.run(go_sweep()))


def sweep_with(url: str, workers: int, batched: bool, lanes: int) -> tuple[list[int], float, float, float | None]:
    """Applied per worker, seconds from the common start to the last worker's end (start-up
    excluded), the workers' CPU seconds and their database backends' CPU seconds (None if unknown)."""
    ctx = multiprocessing.get_context("spawn")
    queue, go = ctx.Queue(), ctx.Event()
    readies = [ctx.Event() for _ in range(workers)]
    procs = [ctx.Process(target=_worker, args=(url, batched, lanes, ready, go, queue)) for ready in readies]
    for p in procs:
        p.start()
    for ready in readies:
        ready.wait()
    go.set()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    db_cpu = None if any(r[4] is None for r in results) else sum(r[4] for r in results)
    return ([r[0] for r in results], max(r[2] for r in results) - min(r[1] for r in results),
            sum(r[3] for r in results), db_cpu)


async def claim_ms(conn) -> tuple[float, str]:
    """The sweep's own claim query (jobs.sweep.due_query, without the row locks), explained and timed."""
    from datetime import UTC, datetime

    from sqlalchemy.dialects import postgresql

    from jobs.sweep import due_query

    stmt = due_query(datetime.now(UTC), BATCH, postgres=False)
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    rows = await conn.fetch("EXPLAIN (ANALYZE, FORMAT TEXT) " + sql)
    plan = "\n".join(r[0] for r in rows)
    ms = float(plan.rsplit("Execution Time:", 1)[1].split("ms")[0])
    return ms, ("index" if "ix_deadlines_open_due" in plan else "NO INDEX")


async def check_once(db, first: int, last: int) -> str:
    """Zero double-processing: every due row done, each expiry audited once, two emails per trial
    (one customer admin, one partner admin), no dedup key twice."""
    due = last - first + 1
    open_due = await db.fetchval("SELECT count(*) FROM deadlines WHERE kind = 'trial_expiry' AND done_at IS NULL "
                                 "AND subject_id BETWEEN $1 AND $2", first, last)
    audited = await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'trial.expired' "
                                "AND subject_id BETWEEN $1 AND $2", first, last)
    twice = await db.fetchval("SELECT count(*) FROM audit_events WHERE action = 'trial.expired' GROUP BY subject_id "
                              "HAVING count(*) > 1 LIMIT 1")
    emails, keys = await db.fetchrow("SELECT count(*), count(DISTINCT dedup_key) FROM outbox_emails "
                                     "WHERE trial_id BETWEEN $1 AND $2", first, last)
    states = await db.fetchval("SELECT count(*) FROM trials WHERE state = 'EXPIRED' AND id BETWEEN $1 AND $2",
                               first, last)
    ok = open_due == 0 and audited == due and not twice and emails == keys == 2 * due and states == due
    return (f"{'OK' if ok else 'FAILED'}: {due - open_due}/{due} done, {audited} audited, {emails} emails "
            f"({keys} distinct keys), {states} expired")


async def main_async() -> None:
    import asyncpg

    failed = False
    async with scratch.database(PG, "td_bench_sweep") as url:
        db = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        started = time.perf_counter()
        for sql in ARRANGE:
            await db.execute(sql.format(n=TRIALS))
        total = await db.fetchval("SELECT count(*) FROM deadlines")
        print(f"arranged {TRIALS} trials, {total} deadlines in {time.perf_counter() - started:.1f}s")
        ms, how = await claim_ms(db)
        print(f"claim query, 0 due of {total} rows: {ms:.2f} ms ({how})")
        phases = [(1_000, 1, 1, False), (1_000, 1, 1, True), (10_000, 1, 1, True), (10_000, 1, 2, True),
                  (10_000, 1, 3, True), (10_000, 2, 1, True), (10_000, 2, 2, True)]
        first = 1
        for due, workers, lanes, batched in phases:
            last = first + due - 1
            await db.execute(make_due(first, last))
            await settle(db)
            ms, how = await claim_ms(db)
            applied, seconds, cpu, db_cpu = sweep_with(url, workers, batched, lanes)
            check = await check_once(db, first, last)
            failed |= not check.startswith("OK")
            path = "batched" if batched else "one by one"
            n = sum(applied)
            db_us = f"{1e6 * db_cpu / n:.0f}" if db_cpu is not None else "?"
            print(f"{due:>6} due of {total} rows: claim {ms:.2f} ms ({how}); {path}, {workers} worker(s) x {lanes} lane(s) "
                  f"{'+'.join(map(str, applied))} in {seconds:.2f}s = {n / seconds:,.0f} transitions/s; "
                  f"CPU/transition: worker {1e6 * cpu / n:.0f} us, database {db_us} us; {check}")
            first = last + 1
        emails = await db.fetchval("SELECT count(*) FROM outbox_emails")
        print(f"outbox rows written: {emails}")
        await db.close()
    if failed:
        raise SystemExit("bench.sweep: a deadline was lost or applied twice")


async def statement_costs(runtime) -> dict[str, float]:
    """Sweep what is due with one lane, reading the database backend's CPU (/proc) around each
    statement, through SQLAlchemy or the driver: seconds per statement (its first 90 characters)."""
    from sqlalchemy.dialects.postgresql import asyncpg as sa_asyncpg

    from jobs import sweep
    from server.domain.timeline import set_based

    costs: dict[str, float] = {}

    async def timed(pid: int, sql: str, call):
        before = _cpu_seconds([pid])
        try:
            return await call()
        finally:
            key = " ".join(sql.split())[:90]
            costs[key] = costs.get(key, 0.0) + (_cpu_seconds([pid]) or 0.0) - (before or 0.0)

    cursor = sa_asyncpg.AsyncAdapt_asyncpg_cursor
    original_cursor, original_execute = cursor._prepare_and_execute, set_based.execute

    async def via_sqlalchemy(self, operation, parameters):
        pid = self._adapt_connection._connection.get_server_pid()
        return await timed(pid, operation, lambda: original_cursor(self, operation, parameters))

    async def via_driver(db, sql, params):
        raw = await (await db.connection()).get_raw_connection()
        return await timed(raw.driver_connection.get_server_pid(), sql, lambda: original_execute(db, sql, params))

    async with runtime.engine.connect() as conn:       # the pool's connection (one lane: the same one throughout)
        pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
    total = _cpu_seconds([pid])
    cursor._prepare_and_execute, set_based.execute = via_sqlalchemy, via_driver
    try:
        await sweep.run_deadlines(runtime, lanes=1)
    finally:
        cursor._prepare_and_execute, set_based.execute = original_cursor, original_execute
    costs["(BEGIN, COMMIT and the rest of the backend's time)"] = (
        (_cpu_seconds([pid]) or 0.0) - (total or 0.0) - sum(costs.values()))
    return costs


async def profile_async(due: int = 10_000) -> None:
    """`python -m bench.sweep profile`: one worker, one lane, `due` expiry deadlines of a small
    arrangement swept in this process under cProfile (worker CPU only), top functions printed,
    with the SQL statements per batch."""
    import cProfile
    import pstats

    import asyncpg
    from sqlalchemy import event

    from jobs import sweep
    from jobs.runtime import Runtime
    from server.settings import Settings

    async with scratch.database(PG, "td_bench_sweep") as url:
        db = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        for sql in ARRANGE:
            await db.execute(sql.format(n=3 * due))
        await db.execute(make_due(1, due))
        await settle(db)
        os.environ["SMTP_HOST"] = ""
        sweep.BATCH = BATCH
        runtime = Runtime.create(Settings(DATABASE_URL=url))
        statements = [0]
        event.listen(runtime.engine.sync_engine, "before_cursor_execute",
                     lambda *args: statements.__setitem__(0, statements[0] + 1))
        try:
            await sweep.sweep_batch(runtime, sweep.SweepReport(), limit=1)      # warm: pool, caches
            if os.environ.get("TRIALDESK_BENCH_GC_FREEZE"):   # what a worker that froze its start-up heap would pay
                import gc
                gc.freeze()
            cpu = time.process_time()
            plain = (await sweep.run_deadlines(runtime, lanes=1, batched=BATCHED)).deadlines
            plain_us = 1e6 * (time.process_time() - cpu) / plain
            await db.execute(make_due(due + 1, 2 * due))
            await settle(db)
            statements[0] = 0
            gc_time, gc_started = [0.0], [0.0]

            def on_gc(phase, info) -> None:
                if phase == "start":
                    gc_started[0] = time.process_time()
                else:
                    gc_time[0] += time.process_time() - gc_started[0]

            import gc
            gc.callbacks.append(on_gc)
            profiler = cProfile.Profile(time.process_time)
            cpu = time.process_time()
            profiler.enable()
            report = await sweep.run_deadlines(runtime, lanes=1, batched=BATCHED)
            profiler.disable()
            cpu = time.process_time() - cpu
            gc.callbacks.remove(on_gc)
            counted = statements[0]
            await db.execute(make_due(2 * due + 1, 3 * due))
            await settle(db)
            per_statement = await statement_costs(runtime)
        finally:
            await runtime.close()
        n = report.deadlines
        print(f"{plain} transitions without the profiler: worker CPU {plain_us:.0f} us/transition")
        print(f"{n} transitions, worker CPU {1e6 * cpu / n:.0f} us/transition (under cProfile, which counts CPU time), "
              f"of which GC {1e6 * gc_time[0] / n:.0f} us, {counted} statements through SQLAlchemy ({counted / max(1, n / BATCH):.1f} per batch of {BATCH}); "
              f"{await check_once(db, 2, 2 * due)}")
        print(f"database CPU per transition by statement ({due} more transitions):")
        for sql, us in sorted(per_statement.items(), key=lambda item: -item[1]):
            print(f"  {us / due * 1e6:7.1f} us  {sql}")
        print(f"  {sum(per_statement.values()) / due * 1e6:7.1f} us  in all")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        pstats.Stats(profiler).sort_stats("cumtime").print_stats(40)
        await db.close()


def main() -> None:
    import sys

    if sys.argv[1:2] == ["profile"]:
        asyncio.run(profile_async(int(sys.argv[2]) if len(sys.argv) > 2 else 10_000))
    else:
        asyncio.run(main_async())


if __name__ == "__main__":
    main()
