"""Home page queries (issue 18): the portal's stored `HomePage` document (viewer, `attention`,
`trialsByWeek`) run in-process on PostgreSQL through the reference GraphQL path, as `/` runs it, for
a partner with 10k customers (bench.customers_page's data: one customer in 10 with a trial), the
trials spread over every "needs attention" category and over the 12 weeks. Two viewers: a sales
full admin (all customers) and a sales admin (own customers, R-ROLE-02: half the trials).

Also counts the SQL statements one run of the document sends (a SQLAlchemy `before_cursor_execute`
listener) at 100 and at 10k customers: they must be the same number (set-based SQL, no N+1).
Baseline in the same run, on the same data: the customers list's first page (`CustomersPage`,
reference path). Uses its own throw-away databases; needs PostgreSQL at 127.0.0.1
(TRIALDESK_BENCH_PG).

    uv run python -m bench home

Target: p95 ≤ 50 ms at 10k customers; the statement count constant.

Measured on this 2-core machine, shared with other engineers' test runs (2026-12-04):

- first version (each statement built per call; purchase interest probed each live trial's audit
  trail; provisioning failed a scan of every customer), load ~2.5: home p50 31 ms, p95 61 / 53 ms
  (all / own customers); the customers list 19 / 34 ms. EXPLAIN: 8 ms in the customer scan, 10 ms
  in the audit probes; building the statements cost ~5 ms each call.
- statements built once per actor with bound moments, partial indexes (migration 0008): load 7-10
  during the run: home p50 19.7 / 19.2 ms, p95 49.9 / 49.3 ms (all / own), 0.69x the list's p50 in
  the same rounds (list p50 28.6, p95 68.5 ms). At load ~14 an earlier run gave p95 95-100 ms (the
  list 147 ms): figures here follow the machine's load.
- the same code, 2026-12-04 20:15, load ~3: home p50 11.1 / 10.8 ms, p95 23.6 / 22.4 ms (all / own),
  0.73x the list's p50 (list p50 15.1, p95 32.4 ms).
- SQL statements per document: 3 (viewer, attention, trialsByWeek) at 100 and at 10k customers.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid

from bench.customers_page import arrange

PG = os.environ.get("TRIALDESK_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SIZES = (100, int(os.environ.get("TRIALDESK_BENCH_CUSTOMERS", "10000")))
ROUNDS = int(os.environ.get("TRIALDESK_BENCH_ROUNDS", "200"))

#: The trials spread by id over the categories and the 12 weeks (one statement each, on every size alike).
SPREAD = [
    "UPDATE trials SET starts_at = now() - (id % 84) * interval '1 day'",
    "UPDATE trials SET ends_at = now() + (id % 7) * interval '1 day' + interval '1 hour' WHERE id % 10 = 0",
    "UPDATE trials SET state = 'EXPIRED', ends_at = now() - (id % 25) * interval '1 day', "
    "grace_ends_at = now() + (30 - id % 25) * interval '1 day' WHERE id % 10 = 1",
    "UPDATE trials SET state = 'CONVERTED', converted_at = now() - (id % 84) * interval '1 day' WHERE id % 10 = 2",
    "UPDATE trials SET state = 'RELEASED', released_at = now() - (id % 84) * interval '1 day', "
    "ends_at = now() - (id % 84 + 30) * interval '1 day' WHERE id % 10 = 3",
    "UPDATE shipments SET status = 'SHIPPED', return_by = current_date + (trial_id % 20 - 5)::int "
    "WHERE trial_id % 10 = 4",
    "INSERT INTO device_extension_requests (trial_id, days, status, created_at) "
    "SELECT id, 30, 'PENDING', now() FROM trials WHERE id % 10 = 5",
    "INSERT INTO audit_events (at, actor, action, subject_type, subject_id, partner_id, customer_id) "
    "SELECT now() - (id % 5) * interval '1 day', 'customer:bench', 'trial.purchase_interest', 'Trial', id, "
    "partner_id, customer_id FROM trials WHERE id % 10 = 6",
    "UPDATE trials SET state = 'PENDING_CONSENT' WHERE id % 10 = 7",
    "INSERT INTO consent_requests (trial_id, customer_id, partner_id, admin_email, status, nonce, expires_at, "
    "sent_count, created_at) SELECT id, customer_id, partner_id, 'a@bench.example', 'PENDING', 'n', "
    "now() + (id % 9) * interval '1 day', 1, now() - (30 - id % 9) * interval '1 day' FROM trials WHERE id % 10 = 7",
    "UPDATE customer_orgs SET provisioning_status = 'UNABLE_TO_PROVISION' WHERE id % 50 = 0",
    "UPDATE trials SET started_by_user_id = (SELECT id FROM users WHERE email = 'own@bench.example') "
    "WHERE id % 2 = 0",
    "ANALYZE",
]


async def spread(sessionmaker) -> None:
    from sqlalchemy import text

    from server.domain.orgs import directory
    from server.enums import Role

    async with sessionmaker() as db, db.begin():
        partner_id = await db.scalar(text("SELECT partner_id FROM users WHERE email = 'sales@bench.example'"))
        await directory.create_user(db, "own@bench.example", [Role.SALES_ADMIN], partner_id=partner_id)
    for statement in SPREAD:
        async with sessionmaker() as db, db.begin():
            await db.execute(text(statement))


async def actors(sessionmaker) -> dict:
    from sqlalchemy import text

    from server.domain.core.actor import Actor, ActorKind
    from server.enums import Role

    found = {}
    async with sessionmaker() as db:
        for label, email, role in (("all", "sales@bench.example", Role.SALES_FULL_ADMIN),
                                   ("own", "own@bench.example", Role.SALES_ADMIN)):
            user_id, partner_id = (await db.execute(text("SELECT id, partner_id FROM users WHERE email = :e"),
                                                    {"e": email})).one()
            found[label] = Actor(kind=ActorKind.PARTNER_USER, user_id=user_id, partner_id=partner_id,
                                 roles=frozenset({role}), email=email)
    return found


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(url: str, customers: int) -> dict:
    """Arrange `customers`, then time and count the documents; returns the figures."""
    from sqlalchemy import event

    from server import clock
    from server import graphql_http as gql
    from server.db import migrate
    from server.db.engine import make_engine, make_sessionmaker
    from server.pages.operations import read_operations
    from server.schema.context import Context
    from server.schema.schema import schema
    from server.settings import Settings

    clock.configure(False)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    started = time.perf_counter()
    await arrange(sessionmaker, customers)
    await spread(sessionmaker)
    print(f"arranged {customers} customers in {time.perf_counter() - started:.0f}s", flush=True)
    settings = Settings(DATABASE_URL=url)
    documents = gql.DocumentCache(schema._schema)
    operations = read_operations()
    viewers = await actors(sessionmaker)

    async def run(name: str, actor) -> dict:
        context = Context(sessionmaker=sessionmaker, settings=settings, actor=actor)
        try:
            status, body, _ = await gql.run(schema._schema, documents, context, operations[name], {}, name)
        finally:
            await context.close()
        assert status == 200 and "errors" not in body, body
        return body["data"]

    paths = {("home", "all"): ("HomePage", viewers["all"]), ("home", "own"): ("HomePage", viewers["own"]),
             ("list", "all"): ("CustomersPage", viewers["all"])}
    figures: dict = {"statements": {}, "timings": {}, "answers": {}}
    for key, (name, actor) in paths.items():
        for _ in range(10):  # warm statement caches
            figures["answers"][key] = await run(name, actor)
        seen: list[str] = []
        listener = lambda _c, _cur, statement, *rest: seen.append(statement)  # noqa: E731
        event.listen(engine.sync_engine, "before_cursor_execute", listener)
        try:
            await run(name, actor)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", listener)
        figures["statements"][key] = len(seen)
    for _ in range(ROUNDS if customers > 100 else 20):  # interleaved: every path sees the same noise
        for key, (name, actor) in paths.items():
            began = time.perf_counter()
            await run(name, actor)
            figures["timings"].setdefault(key, []).append(time.perf_counter() - began)
    await engine.dispose()
    return figures


async def main_async() -> None:
    import asyncpg

    admin_dsn = PG.replace("postgresql+asyncpg", "postgresql")
    admin = await asyncpg.connect(admin_dsn)
    results = {}
    try:
        for customers in SIZES:
            name = f"td_bench_{uuid.uuid4().hex[:8]}"
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                results[customers] = await measure(PG.rsplit("/", 1)[0] + "/" + name, customers)
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    small, large = SIZES
    print(f"\nHomePage document in-process (reference GraphQL path), PostgreSQL, {ROUNDS} interleaved rounds at "
          f"{large} customers; target p95 ≤ 50 ms, statements constant")
    print(f"{'customers':>9} {'document':>8} {'viewer':>6} {'SQL':>4} {'p50 ms':>8} {'p95 ms':>8} {'x list p50':>10}")
    for customers in SIZES:
        figures = results[customers]
        list_p50 = statistics.median(figures["timings"][("list", "all")])
        for key in (("home", "all"), ("home", "own"), ("list", "all")):
            values = figures["timings"][key]
            print(f"{customers:>9} {key[0]:>8} {key[1]:>6} {figures['statements'][key]:>4} {pct(values, .5):8.1f} "
                  f"{pct(values, .95):8.1f} {statistics.median(values) / list_p50:10.2f}")
    answer = results[large]["answers"][("home", "all")]
    print("attention at " + str(large) + ": " + ", ".join(f"{a['kind']} {a['totalCount']}" for a in answer["attention"]))
    for key in (("home", "all"), ("home", "own")):
        same = results[small]["statements"][key] == results[large]["statements"][key]
        print(f"statements {key[0]}/{key[1]}: {results[small]['statements'][key]} at {small}, "
              f"{results[large]['statements'][key]} at {large}: {'constant' if same else 'NOT CONSTANT'}")


def main() -> None:
    asyncio.run(main_async())


if __name__ == "__main__":
    main()
