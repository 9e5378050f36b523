"""Customers page benchmark (issue 5): the customers query for 50 and 10 customers with trials,
services and shipments, executed in-process as a portal page does (cached document, per-request
context, a process that called `gc.freeze()` after start-up), against a raw asyncpg floor that
reads the same rows with the same round trips (page, count, trials, services, shipments, managing
partners, purchased services) and serializes them with orjson, and against graphql-core alone
executing the same document over the answer as plain dicts (the floor of any GraphQL layer).
Interleaved; prints p50/p95 of each and the ratios. Needs PostgreSQL at 127.0.0.1:5432
(TRIALDESK_BENCH_PG to change); uses its own throw-away database. `TRIALDESK_BENCH_PROFILE=1` (or a
file name to dump the stats to) prints a cProfile of the page instead (TRIALDESK_BENCH_FIRST=10|50).

    uv run python -m bench.customers

Targets: API p50 ≤ 5× raw p50, API p95 ≤ 1.5× its own p50.

Measured on this machine (2 cores shared with other work: compare ratios, not milliseconds), p50
API/raw for 50 | 10 customers; CPU per page from an in-process A/B of the variants:

- before (ORM entities, an async resolver + DataLoader per relation and row): 41.2 | 10.7 ms,
  19.9× | 10.8×, p95/p50 1.84 | 1.23.
- Core rows (`Row`s of table columns) in the loaders and the page query: 34.7 | 11.9 ms, 17.4× | 10.6×.
- read-ahead of the selected relations for the whole page, Customer/Trial built with plain values,
  sync resolvers, one clock reading per page: profile CPU −38 % (4.25 → 2.65 s for 50 pages).
- key lists bound as one parameter (`= ANY(:ids)` / expanding IN) instead of one literal per key:
  CPU 18 → 14.5 ms (50), 9 → 6.5 ms (10). Kept.
- gc thresholds (700/10/10 vs 5000/20/100, 20000/20/100, 700/10/1000) after `gc.freeze()`: no
  difference beyond noise on p50 or p95 (fewer, longer pauses instead of more, shorter ones).
  Not kept: `gc.freeze()` alone already keeps start-up objects out of every collection.
- a type-memoized `is_awaitable` for graphql-core (~0.1 µs × ~5000 calls) and resolving read-ahead
  relations with a bare graphql-core resolver instead of Strawberry's wrapper (−5 % CPU): not kept,
  not worth patching the executor or the built schema.
- after: 20.1 | 7.95 ms, 12.5× | 8.0×, p95/p50 1.31 | 1.46; graphql-core alone 3.5× | 1.3×.

Where the rest goes (cProfile, 50 customers): graphql-core's per-field execution ≈ 45 %, Strawberry
wrappers and enum serialization ≈ 12 %, SQLAlchemy ≈ 10 %; for 10 customers the fixed cost
dominates: 7 statements through the async session ≈ 5 ms CPU vs 0.7 ms raw (pool pre-ping alone
≈ 0.6 ms and a round trip). The 5× target is below graphql-core's own cost for the 50-row page here.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid

from pathlib import Path

import orjson
from graphql import build_schema, execute, parse

PG = os.environ.get("TRIALDESK_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
CUSTOMERS = 120
ROUNDS = int(os.environ.get("TRIALDESK_BENCH_ROUNDS", "200"))
PAGE = """query Page($first: Int) { customers(first: $first) { totalCount edges { node {
  id name subscriptionStatus provisioningStatus purchasedServices managingPartner { name }
  trials { id state daysLeft services { type licenseCount expired } shipments { id deviceType status } } } } } }"""

RAW = {
    "page": """SELECT c.id, c.name, c.provisioning_status, c.subscription_status, c.managing_partner_id
               FROM customer_orgs c WHERE c.managing_partner_id = $1
                  OR EXISTS (SELECT 1 FROM partner_access g WHERE g.customer_id = c.id AND g.partner_id = $1)
               ORDER BY lower(c.name), c.id LIMIT $2""",
    "count": "SELECT count(*) FROM customer_orgs c WHERE c.managing_partner_id = $1",
    "trials": "SELECT id, customer_id, state, ends_at FROM trials WHERE customer_id = ANY($1) AND partner_id = $2",
    "services": "SELECT trial_id, service, license_count FROM trial_services WHERE trial_id = ANY($1) "
                "AND removed_at IS NULL",
    "shipments": "SELECT id, trial_id, device_type, status FROM shipments WHERE trial_id = ANY($1)",
    "partners": "SELECT id, name FROM partner_orgs WHERE id = ANY($1)",
    "purchased": "SELECT customer_id, service FROM purchased_services WHERE customer_id = ANY($1)",
}


async def raw_page(conn, partner_id: int, first: int) -> bytes:
    """The floor: the same rows by hand, grouped in dicts, dumped with orjson (no derivations)."""
    rows = await conn.fetch(RAW["page"], partner_id, first)
    ids = [r["id"] for r in rows]
    total = await conn.fetchval(RAW["count"], partner_id)
    trials = await conn.fetch(RAW["trials"], ids, partner_id)
    trial_ids = [t["id"] for t in trials]
    services = await conn.fetch(RAW["services"], trial_ids)
    shipments = await conn.fetch(RAW["shipments"], trial_ids)
    partners = {p["id"]: p["name"] for p in await conn.fetch(RAW["partners"],
                                                              list({r["managing_partner_id"] for r in rows}))}
    purchased: dict[int, list] = {}
    for p in await conn.fetch(RAW["purchased"], ids):
        purchased.setdefault(p["customer_id"], []).append(p["service"])
    by_trial: dict[int, list] = {}
    for s in services:
        by_trial.setdefault(s["trial_id"], []).append({"type": s["service"], "licenseCount": s["license_count"]})
    ships: dict[int, list] = {}
    for s in shipments:
        ships.setdefault(s["trial_id"], []).append({"id": s["id"], "deviceType": s["device_type"],
                                                    "status": s["status"]})
    by_customer: dict[int, list] = {}
    for t in trials:
        by_customer.setdefault(t["customer_id"], []).append({"id": t["id"], "state": t["state"],
                                                             "services": by_trial.get(t["id"], []),
                                                             "shipments": ships.get(t["id"], [])})
    return orjson.dumps({"totalCount": total, "edges": [
        {"node": {"id": r["id"], "name": r["name"], "provisioningStatus": r["provisioning_status"],
                  "purchasedServices": purchased.get(r["id"], []),
                  "managingPartner": {"name": partners.get(r["managing_partner_id"])},
                  "trials": by_customer.get(r["id"], [])}} for r in rows]})


async def arrange(sessionmaker) -> tuple[int, object]:
    from server.domain import directory, trials
    from server.domain.actor import Actor, ActorKind
    from server.domain.service_options import DeviceOrder, TrialRequest
    from server.enums import Role, ServiceType

    async with sessionmaker() as db, db.begin():
        partner = await directory.create_partner(db, "Bench Partner")
        user = await directory.create_user(db, "sales@bench.example", [Role.SALES_FULL_ADMIN], partner_id=partner.id)
        actor = Actor(kind=ActorKind.PARTNER_USER, user_id=user.id, partner_id=partner.id,
                      roles=frozenset({Role.SALES_FULL_ADMIN}), email=user.email)
        for i in range(CUSTOMERS):
            customer = await directory.create_customer(db, f"Customer {i:03}", "NO", f"admin{i}@c{i}.example",
                                                       purchased=[ServiceType.MESSAGING], managed_by=partner.id)
            request = TrialRequest([ServiceType.CALLING, ServiceType.MEETINGS, ServiceType.DEVICES], 25, 90,
                                   devices=[DeviceOrder("HEADSET", "Cisco Headset 730", 2)])
            await trials.add_trial_to_paid_customer(db, actor, customer.id, request, max_licenses=1000)
    return partner.id, actor


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run() -> None:
    import asyncpg

    from server import clock
    from server import graphql_http as gql
    from server.app import settle_memory
    from server.db import migrate
    from server.db.engine import make_engine, make_sessionmaker
    from server.schema.context import Context
    from server.schema.schema import schema
    from server.settings import Settings

    clock.configure(False)
    admin_dsn = PG.replace("postgresql+asyncpg", "postgresql")
    name = f"td_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        engine = make_engine(url)
        sessionmaker = make_sessionmaker(engine)
        partner_id, actor = await arrange(sessionmaker)
        settings = Settings(DATABASE_URL=url)
        documents = gql.DocumentCache(schema._schema)
        conn = await asyncpg.connect(admin_dsn.rsplit("/", 1)[0] + "/" + name)

        async def api(first: int) -> bytes:
            context = Context(sessionmaker=sessionmaker, settings=settings, actor=actor)
            status, body, _ = await gql.run(schema._schema, documents, context, PAGE, {"first": first}, "Page")
            assert status == 200 and "errors" not in body, body
            return orjson.dumps(body)

        floor_schema = build_schema((Path(__file__).resolve().parent.parent / "schema.graphql").read_text())
        floor_doc = parse(PAGE)
        answers = {}

        async def graphql_core(first: int) -> bytes:
            """The floor of any GraphQL layer: graphql-core alone executing the same document over the
            answer as plain dicts (default resolvers, no database, no Strawberry)."""
            result = execute(floor_schema, floor_doc, root_value=answers[first], variable_values={"first": first})
            return orjson.dumps({"data": result.data})

        for first in (50, 10):
            answers[first] = orjson.loads(await api(first))["data"]
            for _ in range(10):  # warm both paths (statement caches, prepared statements)
                await api(first)
                await raw_page(conn, partner_id, first)
        settle_memory()  # as the web process does after start-up
        if os.environ.get("TRIALDESK_BENCH_PROFILE"):
            await profile(lambda: api(int(os.environ.get("TRIALDESK_BENCH_FIRST", "50"))))
            return
        timings: dict[tuple[str, int], list[float]] = {}
        for first in (50, 10):
            for _ in range(ROUNDS):  # interleaved, so both see the same machine noise
                for label, call in (("api", lambda: api(first)), ("raw", lambda: raw_page(conn, partner_id, first)),
                                    ("gql", lambda: graphql_core(first))):
                    started = time.perf_counter()
                    await call()
                    timings.setdefault((label, first), []).append(time.perf_counter() - started)
        await conn.close()
        await engine.dispose()
        print(f"customers page, {CUSTOMERS} customers with a 3-service trial and a shipment each, "
              f"{ROUNDS} interleaved rounds")
        print(f"{'page':>6} {'path':>5} {'p50 ms':>8} {'p95 ms':>8} {'p95/p50':>8}")
        for first in (50, 10):
            for label in ("api", "raw", "gql"):
                values = timings[label, first]
                print(f"{first:>6} {label:>5} {pct(values, .5):8.2f} {pct(values, .95):8.2f} "
                      f"{pct(values, .95) / pct(values, .5):8.2f}")
            raw = statistics.median(timings["raw", first])
            print(f"{first:>6} ratio api/raw p50 = {statistics.median(timings['api', first]) / raw:.1f}x "
                  f"(graphql-core alone: {statistics.median(timings['gql', first]) / raw:.1f}x)")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def profile(call, rounds: int = 50) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        await call()
    profiler.disable()
    if os.environ.get("TRIALDESK_BENCH_PROFILE", "1") not in ("1", ""):
        profiler.dump_stats(os.environ["TRIALDESK_BENCH_PROFILE"])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
