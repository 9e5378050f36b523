"""Usage ingest and adoption reads (SPEC §10, R-USE-01..05) on PostgreSQL, one web process
(`trialdesk serve`), the client in this process over loopback HTTP. Four measurements, each a ratio
against a baseline taken in the same run (the machine is shared):

1. **Ingest**: `POST /ingest/usage` (NDJSON, a PLATFORM user's token) in batches of 10,000 lines:
   1,000 trial orgs × 50 users × 30 days = 1.5M activity lines (each user on MEETINGS or CALLING, one
   user-day in five idle: 0 events, 0 minutes), a day's lines for all orgs before the next day's, as
   the platform reports. Baseline, interleaved batch by batch (the order alternates): the **raw
   floor**: the same rows (org keys already decoded, dates as dates) through asyncpg's
   `copy_records_to_table` into a temporary table and one set-based `INSERT … ON CONFLICT DO UPDATE`
   into a partitioned copy of `usage_user_days` (same key, same monthly partitions), in one
   transaction: what storing the rows costs with no parsing, no checks and no rollups. Targets:
   lines/s ≥ 0.5× the floor's and ≥ 25,000.
2. **A re-sent batch**: every 10th batch is sent again right after its first answer (the platform
   retrying): its time over the first's (target ≤ 1: a re-sent batch changes no row, so it writes
   no rollup).
3. **Memory**: the web process's resident memory (VmRSS) at rest, then its peak (VmHWM, reset
   through /proc/PID/clear_refs before the request, and VmRSS sampled every 2 ms) during one body
   of 50,000 lines (target: peak − rest < 150 MB).
4. **The customers page with adoption**: `customers(first: 50)` over `/graphql` with a partner
   token (the planner's path, as any API client): each trial with `adoption { health activeUsers30d
   activation }` against the same document without it, at 10,000 customers (one in ten with a
   trial: bench.customers_page's arrangement); the first page by name (5 trials) and the
   TRIAL_ACTIVE filter (50 customers, each with a trial), interleaved rounds; target p50 ≤ 1.3×.

    uv run python -m bench usage                 # the full size (about 2 minutes)
    uv run python -m bench usage --scale 0.1     # 100 trial orgs (150,000 lines); pages still at 10k customers
    TRIALDESK_BENCH_KEEP=1 uv run python -m bench usage   # keeps the database (printed) to EXPLAIN; drop it after

`--scale` (or TRIALDESK_BENCH_SCALE) scales the number of trial orgs that report usage (1,000 × scale);
50 users, 30 days, 10,000-line batches, the 50,000-line body and the 10,000 customers stay. Needs
PostgreSQL and Redis at 127.0.0.1 (TRIALDESK_BENCH_PG, TRIALDESK_BENCH_REDIS); a throw-away database.
The customers are arranged by copying a 10-customer template in SQL (bench/clone.py): 2-6 s for
10,000, where making each through the domain took 13 minutes at load ~20. Figures: README's table.

Measured 2026-12-07 on this 2-core machine shared by five engineers; every figure is a ratio within
one run. History:

- First (load 11-20, `--scale 0.2`): SQLAlchemy `unnest` arrays, every changed row back to Python for
  the rollups, ~1.35 s of SQL per 10,000 lines; then COPY into a temporary table with one statement
  per rollup: 3,335-3,843 lines/s over HTTP, **0.23-0.25x** the floor (14.5-15.5k/s).
- Then (issue 23, usageperf; EXPLAIN ANALYZE of each statement, py-spy on the web process):
  * one statement writes the batch and every rollup (STAGED_WRITE in server/domain/usage/storage.py):
    the daily totals moved by differences instead of recomputed from the per-user rows (a new day's
    keys read no replaced row at all: one index probe per key decides, WRITE_NEW), the last active
    days moved forward from the changed rows only, the orgs marked from the same rows; one ingest
    per org at a time (advisory lock) keeps the differences exact;
  * the line reader: orjson and plain type checks for a good activity line, each org and day decoded
    once per report, the batch loop inlined: 1.5 µs a line (2.4 before), the same answers as
    `read_line` for every line (tests/usage/test_lines.py);
  * new rollup rows inserted in key order: the first version inserted the last-active rows in hash
    order, an org's 50 rows on 36 pages, so the adoption of a page of 50 trials read 1,800 pages
    (about 4 a trial since); the planner's trial-usage subquery per trial row (no grouped join),
    its days sent as numbers, and each of its inputs selected once for the five adoption fields
    (server/planner/compile.py: the array was built and sent three times for three fields).
- Final, full size (1,000 orgs, 1.5M lines, 10,000 customers), three runs (08:32 and 08:34 at load
  6.9-8.4; 08:49 at load 2.9-3.2, after Trial.adoption was embedded in the trial's row):
  * ingest **28,804, 30,886 and 72,710 lines/s** (≥ 25,000: met) against the floor's 76,847, 85,255
    and 173,143: **0.37x, 0.36x and 0.42x** (target 0.5x: not met; 0.39-0.53x at `--scale 0.1`).
    What is left beyond the floor's own insert: the last-active upsert, 8,000 row updates per 10,000
    lines (every active user's last day moves every day), each an index probe, a row lock and a HOT
    update: EXPLAIN ANALYZE at 1,000 orgs, 184 ms for them against 77 ms for the 10,000 inserted
    rows (load ~8). An UPDATE … FROM in place of ON CONFLICT was not faster. The last-active rows
    stayed HOT for 85-86% of the updates in the loaded runs (3,300 pages for 50,000 rows), 100% in
    the quiet one (747 pages). Why some runs are slower: a snapshot's xmin is cluster-wide, so a
    transaction holding an xid in any database (another engineer's test run: 140-160 s seen) stops
    page pruning here; then about half the last-active updates are not HOT, the table grows 7x (552
    pages for 5,000 rows at `--scale 0.1` instead of 79) and the adoption read slows (TRIAL_ACTIVE
    1.82-1.84x in such runs, 1.34-1.39x without). The bench prints the HOT share and the cluster's
    oldest writing transaction.
  * re-sent batch: median 0.38x, 0.57x and 0.49x the first (met);
  * memory: RSS 114 → 134 MB during the 50,000-line body: +20 MB (met);
  * customers page with adoption: first page (5 trials) 0.98-1.16x; TRIAL_ACTIVE (50 trials)
    **1.50x, 1.47x and 1.47x** (1.34-1.39x at `--scale 0.1`; target 1.3x: not met; 2.0-2.6x
    before). In PostgreSQL the adoption part is now ~1.2 ms of the statement's ~5 ms (auto_explain,
    quiet: one subquery per trial over its org's last-active rows, ~25 µs a trial); the rest of the
    difference is on the web process's side (its samples are mostly asyncpg reading the larger
    result, then the shaping).
- Then (issue 23, usagestore; auto_explain and log_min_duration_statement on a kept bench database,
  `TRIALDESK_BENCH_KEEP=1`; cProfile in process): the page's 2.2 ms of adoption were mostly
  PostgreSQL (the per-trial subquery over the per-user rollup: ~37 µs a trial, an org's 50 rows on
  ~12 pages), the shaping ~0.15 ms. The last-active rollup became one row per (org, service), a JSON
  object {user: day number} (migration 0020): a batch rewrites ~400 rows instead of ~8,000, a trial's
  adoption reads one row per service (~7 µs a trial) and Python merges them (usage.sql.merged_days).
  The ingest's fixed costs went too: the live-org check on the asyncpg connection (~7 ms of
  SQLAlchemy a batch), the partition look-up per batch (cached per process), a new day's rollups
  read from the staged batch instead of the insert's RETURNING, the seen-check probing the daily
  totals (the per-user table's probes went through 15 monthly partitions each). Full size, 10:22-11:32
  at load 3-8: ingest **0.46x, 0.49x, 0.50x, 0.53x, 0.54x, 0.52x** the floor as the steps landed;
  TRIAL_ACTIVE page **1.33x, 1.23x, 1.22x, 1.23x, 1.24x, 1.22x**; re-sent 0.54-0.70x; RSS +20 MB.
  What is left beyond the floor (a batch, load ~4, timed in the web process): the line reader ~12 ms
  quiet (26 under load), the rollups ~20-30 ms of the statement (the last active days ~10-20: ~400
  jsonb rows rewritten and their users' days looked up; the daily totals ~5), the lock and seen
  check, the per-batch Python (dedup, records) ~3 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from bench.clone import arrange_copied
from bench.customers_page import PG, REDIS, _free_port, pct

USERS = 50
DAYS = 30
BATCH = 10_000
MEMORY_LINES = 50_000
CUSTOMERS = int(os.environ.get("TRIALDESK_BENCH_CUSTOMERS", "10000"))
ROUNDS = int(os.environ.get("TRIALDESK_BENCH_ROUNDS", "100"))
RESEND_EVERY = 10
FLOOR = "bench_floor_user_days"
COLUMNS = ("org_id", "day", "service", "user_key", "events", "minutes")

NODE = """id name subscriptionStatus
          trials { id state daysLeft endsAt services { type expired } %s }"""
ADOPTION = "adoption { health activeUsers30d activation }"
PAGES = {"first page": "customers(first: 50)", "TRIAL_ACTIVE": "customers(first: 50, status: TRIAL_ACTIVE)"}


def document(root: str, adoption: bool) -> str:
    return "query { %s { totalCount edges { cursor node { %s } } } }" % (root, NODE % (ADOPTION if adoption else ""))


def user_days(orgs: list[int], days: list[date], seed: int = 7):
    """Activity rows (org, day, service, user, events, minutes), a day's for every org before the next."""
    rng = random.Random(seed)
    for day in days:
        for org in orgs:
            for user in range(USERS):
                idle = rng.random() < 0.2
                yield (org, day, "CALLING" if user % 3 == 0 else "MEETINGS", f"u{org}x{user}",
                       0 if idle else rng.randint(1, 12), 0 if idle else rng.randint(1, 240))


def ndjson(rows, global_id) -> bytes:
    return "".join(f'{{"org":"{global_id(org)}","day":"{day.isoformat()}","service":"{service}","user":"{user}",'
                   f'"events":{events},"minutes":{minutes}}}\n'
                   for org, day, service, user, events, minutes in rows).encode()


def batches(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


async def _tokens(sessionmaker) -> tuple[str, str]:
    """(the platform's token, the bench partner's sales full admin's token)."""
    from sqlalchemy import select

    from server.auth.tokens import hash_token, new_token
    from server.db.models import User
    from server.domain.orgs import directory
    from server.enums import Role

    platform, partner = new_token(), new_token()
    async with sessionmaker() as db, db.begin():
        user = await directory.create_user(db, "usage@platform.example", [Role.PLATFORM], partner_id=None)
        await directory.create_api_token(db, user, hash_token(platform), [Role.PLATFORM], "bench")
        sales = await db.scalar(select(User).where(User.email == "sales@bench.example"))
        await directory.create_api_token(db, sales, hash_token(partner), [Role.SALES_FULL_ADMIN], "bench")
    return platform, partner


async def _floor_table(conn, months: list[date]) -> None:
    """A partitioned copy of usage_user_days (same columns, key and monthly partitions) and the staging table."""
    from server.domain.usage.partitions import next_month

    await conn.execute(f"CREATE TABLE {FLOOR} (LIKE usage_user_days INCLUDING ALL) PARTITION BY RANGE (day)")
    for month in months:
        await conn.execute(f"CREATE TABLE {FLOOR}_p{month:%Y%m} PARTITION OF {FLOOR} "
                           f"FOR VALUES FROM ('{month}') TO ('{next_month(month)}')")
    await conn.execute("CREATE TEMPORARY TABLE floor_stage (org_id bigint, day date, service varchar, "
                       "user_key varchar, events bigint, minutes bigint)")


FLOOR_UPSERT = f"""INSERT INTO {FLOOR} (org_id, day, service, user_key, events, minutes)
SELECT org_id, day, service, user_key, events, minutes FROM floor_stage
ON CONFLICT (org_id, day, service, user_key) DO UPDATE SET events = excluded.events, minutes = excluded.minutes
WHERE {FLOOR}.events <> excluded.events OR {FLOOR}.minutes <> excluded.minutes"""


async def _floor_batch(conn, rows) -> float:
    began = time.perf_counter()
    async with conn.transaction():
        await conn.copy_records_to_table("floor_stage", records=rows, columns=COLUMNS)
        await conn.execute(FLOOR_UPSERT)
        await conn.execute("TRUNCATE floor_stage")
    return time.perf_counter() - began


async def _send(client, token: str, body: bytes, lines: int) -> float:
    began = time.perf_counter()
    answer = await client.post("/ingest/usage", content=body, headers={
        "authorization": f"Bearer {token}", "content-type": "application/x-ndjson"})
    elapsed = time.perf_counter() - began
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    report = answer.json()
    assert report["accepted"] == lines and not report["rejected"], str(report)[:300]
    return elapsed


async def _ingest(client, floor, token: str, orgs: list[int], days: list[date], global_id) -> dict:
    figures = {"http": 0.0, "floor": 0.0, "lines": 0, "batches": 0, "first": [], "again": []}
    for number, rows in enumerate(batches(user_days(orgs, days), BATCH)):
        body = ndjson(rows, global_id)
        legs = {"floor": lambda: _floor_batch(floor, rows), "http": lambda: _send(client, token, body, len(rows))}
        took = {}
        for name in (("floor", "http") if number % 2 == 0 else ("http", "floor")):
            took[name] = await legs[name]()
            figures[name] += took[name]
        if number % RESEND_EVERY == 0:
            figures["first"].append(took["http"])
            figures["again"].append(await _send(client, token, body, len(rows)))
        figures["lines"] += len(rows)
        figures["batches"] += 1
        if number % 20 == 0:
            print(f"  batch {number}: {figures['lines']} lines, ingest {figures['lines'] / figures['http']:.0f}/s, "
                  f"floor {figures['lines'] / figures['floor']:.0f}/s", flush=True)
    return figures


async def _memory(client, pid: int, token: str, orgs: list[int], today: date, global_id) -> dict:
    """The web process's RSS at rest and its peak during one 50,000-line body (new days: all stored)."""
    days = [today] + [today - timedelta(days=DAYS + 1 + i) for i in range(MEMORY_LINES // (len(orgs) * USERS) + 1)]
    rows = list(user_days(orgs, days, seed=11))[:MEMORY_LINES]
    body = ndjson(rows, global_id)
    await asyncio.sleep(1)
    rest = rss_kb(pid)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    sampled = rest
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal sampled
        while not done.is_set():
            sampled = max(sampled, rss_kb(pid))
            await asyncio.sleep(0.002)

    sampler = asyncio.create_task(sample())
    try:
        seconds = await _send(client, token, body, len(rows))
    finally:
        done.set()
        await sampler
    peak = max(sampled, rss_kb(pid, "VmHWM"))
    return {"rest": rest / 1024, "peak": peak / 1024, "seconds": seconds, "bytes": len(body), "lines": len(rows)}


async def _pages(client, token: str) -> dict:
    headers = {"authorization": f"Bearer {token}"}
    variants = {(page, adoption): document(root, adoption) for page, root in PAGES.items() for adoption in (False, True)}
    for (page, adoption), text in variants.items():  # check and warm up
        answer = (await client.post("/graphql", json={"query": text}, headers=headers)).json()
        assert "errors" not in answer, answer["errors"]
        trials = [t for e in answer["data"]["customers"]["edges"] for t in e["node"]["trials"]]
        if adoption:
            assert trials and all(t["adoption"] is not None for t in trials), (page, trials[:2])
        variants[(page, adoption)] = (text, len(trials))
        for _ in range(5):
            await client.post("/graphql", json={"query": text}, headers=headers)
    timings: dict[tuple, list[float]] = {key: [] for key in variants}
    for _ in range(ROUNDS):
        for key, (text, _) in variants.items():
            began = time.perf_counter()
            answer = await client.post("/graphql", json={"query": text}, headers=headers)
            timings[key].append(time.perf_counter() - began)
            assert answer.status_code == 200
    metrics = (await client.get("/metrics")).text.splitlines()
    paths = [line for line in metrics if line.startswith(("trialdesk_planner_root_fields_total{field=\"customers\"",
                                                          "trialdesk_planner_fallbacks_total{"))]
    return {**{key: (timings[key], variants[key][1]) for key in variants}, "paths": paths}


def _server(url: str, port: int, name: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS, "BASE_URL": f"http://127.0.0.1:{port}",
           "TRIALDESK_ENV": "test", "SECRET_KEY": "bench-" + "x" * 40, "TRIALDESK_QUEUE": f"bench-{name}"}
    command = [str(Path(sys.executable).parent / "trialdesk"), "serve", "--port", str(port)]  # the python process itself
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=None if os.environ.get("TRIALDESK_BENCH_VERBOSE") else subprocess.DEVNULL)


async def run(scale: float) -> None:
    import asyncpg
    import httpx
    from sqlalchemy import text

    from server.db import migrate
    from server.db.engine import make_engine, make_sessionmaker
    from server.domain.usage import partitions
    from server.schema.node import to_global_id

    admin_dsn = PG.replace("postgresql+asyncpg", "postgresql")
    name = f"td_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + "/" + name
    server = floor = None
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        engine = make_engine(url)
        sessionmaker = make_sessionmaker(engine)
        began = time.perf_counter()
        await arrange_copied(sessionmaker, url, CUSTOMERS, with_trial=10)
        platform, partner = await _tokens(sessionmaker)
        today = date.today()
        months = partitions.months_needed(today)
        async with sessionmaker() as db, db.begin():  # what the worker keeps made ahead
            await partitions.ensure_partitions(db, months)
            trial_orgs = list(await db.scalars(text("SELECT DISTINCT customer_id FROM trials ORDER BY customer_id")))
        await engine.dispose()
        orgs = trial_orgs[:max(1, round(1000 * scale))]
        print(f"arranged {CUSTOMERS} customers ({len(trial_orgs)} with a trial) in {time.perf_counter() - began:.0f}s; "
              f"{len(orgs)} orgs report usage", flush=True)
        floor = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        await _floor_table(floor, months)
        global_id = {org: to_global_id("Customer", org) for org in orgs}.__getitem__
        port = _free_port()
        server = _server(url, port, name)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            deadline = time.monotonic() + 300  # a loaded machine starts a process slowly
            while True:
                try:
                    if (await client.get("/healthz")).status_code in (200, 503):
                        break
                except httpx.HTTPError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the web process did not start (exit {server.poll()}); "
                                           "TRIALDESK_BENCH_VERBOSE=1 shows its errors") from None
                    await asyncio.sleep(0.5)
            days = [today - timedelta(days=d) for d in range(DAYS, 0, -1)]
            began = time.perf_counter()
            ingest = await _ingest(client, floor, platform, orgs, days, global_id)
            print(f"ingested in {time.perf_counter() - began:.0f}s", flush=True)
            await asyncio.sleep(1)  # the statistics collector
            ingest["hot"] = await floor.fetchrow(
                "SELECT n_tup_upd, n_tup_hot_upd, pg_relation_size(relid) / 8192 AS pages, (SELECT count(*) "
                "FROM usage_last_active) AS live, (SELECT count(*) FROM usage_last_active, jsonb_object_keys(days)) "
                "AS users, (SELECT max(extract(epoch FROM now() - xact_start)) "
                "FROM pg_stat_activity WHERE backend_xid IS NOT NULL) AS oldest "
                "FROM pg_stat_user_tables WHERE relname = 'usage_last_active'")
            memory = await _memory(client, server.pid, platform, orgs, today, global_id)
            await floor.execute("ANALYZE")
            pages = await _pages(client, partner)
        _report(scale, orgs, ingest, memory, pages)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if floor is not None:
            await floor.close()
        if os.environ.get("TRIALDESK_BENCH_KEEP"):  # to look into it (EXPLAIN); drop it after
            print(f"kept database {name}")
        else:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _report(scale: float, orgs: list[int], ingest: dict, memory: dict, pages: dict) -> None:
    lines = ingest["lines"]
    http_rate, floor_rate = lines / ingest["http"], lines / ingest["floor"]
    print(f"\nUsage ingest over HTTP, PostgreSQL, one web process; scale {scale:g}: {len(orgs)} orgs × {USERS} users × "
          f"{DAYS} days = {lines} lines in {ingest['batches']} batches of {BATCH}")
    print(f"  ingest {http_rate:,.0f} lines/s ({ingest['http']:.1f} s), raw floor {floor_rate:,.0f} lines/s "
          f"({ingest['floor']:.1f} s): {http_rate / floor_rate:.2f}× the floor (target ≥ 0.5×, ≥ 25,000 lines/s)")
    hot = ingest["hot"]
    print(f"  last-active rows (per org and service): {hot['live']} holding {hot['users']} users in {hot['pages']} pages, "
          f"{hot['n_tup_upd']} updates, "
          f"{hot['n_tup_hot_upd'] / max(1, hot['n_tup_upd']):.0%} of them HOT; the cluster's oldest writing "
          f"transaction at the end: {float(hot['oldest'] or 0):.0f} s (a long one anywhere stops pruning here)")
    pairs = list(zip(ingest["first"], ingest["again"]))
    ratios = [again / first for first, again in pairs]
    print(f"  re-sent batch ({len(pairs)} batches, each again right after its first answer): "
          f"median {statistics.median(ratios):.2f}× the first, total {sum(a for _, a in pairs) / sum(f for f, _ in pairs):.2f}× "
          f"(target ≤ 1)")
    print(f"  {memory['lines']}-line body ({memory['bytes'] / 1e6:.1f} MB) in {memory['seconds']:.1f} s: web process RSS "
          f"at rest {memory['rest']:.0f} MB, peak {memory['peak']:.0f} MB: +{memory['peak'] - memory['rest']:.0f} MB "
          f"(target < 150 MB)")
    print(f"\ncustomers(first: 50) over /graphql, {CUSTOMERS} customers, {ROUNDS} interleaved rounds; target with/without p50 ≤ 1.3×")
    print(f"{'page':>13} {'trials':>6} {'without p50':>11} {'p95':>7} {'with p50':>9} {'p95':>7} {'ratio p50':>9}")
    for page in PAGES:
        (without, _), (with_, trials) = pages[(page, False)], pages[(page, True)]
        print(f"{page:>13} {trials:6} {pct(without, .5) * 1000:11.1f} {pct(without, .95) * 1000:7.1f} "
              f"{pct(with_, .5) * 1000:9.1f} {pct(with_, .95) * 1000:7.1f} "
              f"{statistics.median(with_) / statistics.median(without):9.2f}")
    print("  how /graphql answered (the web process's /metrics): " + "; ".join(pages["paths"]))


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench usage")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("TRIALDESK_BENCH_SCALE", "1")))
    arguments, _ = parser.parse_known_args(sys.argv[1:])
    asyncio.run(run(arguments.scale))


if __name__ == "__main__":
    main()
