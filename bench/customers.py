"""Customers page benchmark (issue 5): the customers query for 50 and 10 customers, executed
in-process as a portal page does (cached document, per-request loaders), against a raw asyncpg
floor that reads the same rows with the same number of round trips. Interleaved; prints p50/p95
and the ratio. Needs PostgreSQL at 127.0.0.1:5432 (TRIALDESK_BENCH_PG to change); uses its own
throw-away database.

    uv run python -m bench.customers
"""
from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid

PG = os.environ.get("TRIALDESK_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
CUSTOMERS = 120
ROUNDS = 60
PAGE = """query Page($first: Int) { customers(first: $first) { totalCount edges { node {
  id name subscriptionStatus provisioningStatus purchasedServices managingPartner { name }
  trials { id state daysLeft services { type licenseCount expired } } } } } }"""

RAW = {
    "page": """SELECT c.id, c.name, c.provisioning_status, c.subscription_status, c.managing_partner_id
               FROM customer_orgs c WHERE c.managing_partner_id = $1
                  OR EXISTS (SELECT 1 FROM partner_access g WHERE g.customer_id = c.id AND g.partner_id = $1)
               ORDER BY lower(c.name), c.id LIMIT $2""",
    "count": "SELECT count(*) FROM customer_orgs c WHERE c.managing_partner_id = $1",
    "trials": "SELECT id, customer_id, state, ends_at FROM trials WHERE customer_id = ANY($1) AND partner_id = $2",
    "services": "SELECT trial_id, service, license_count FROM trial_services WHERE trial_id = ANY($1) "
                "AND removed_at IS NULL",
    "partners": "SELECT id, name FROM partner_orgs WHERE id = ANY($1)",
    "purchased": "SELECT customer_id, service FROM purchased_services WHERE customer_id = ANY($1)",
}


async def raw_page(conn, partner_id: int, first: int) -> dict:
    rows = await conn.fetch(RAW["page"], partner_id, first)
    ids = [r["id"] for r in rows]
    total = await conn.fetchval(RAW["count"], partner_id)
    trials = await conn.fetch(RAW["trials"], ids, partner_id)
    services = await conn.fetch(RAW["services"], [t["id"] for t in trials])
    partners = await conn.fetch(RAW["partners"], list({r["managing_partner_id"] for r in rows}))
    purchased = await conn.fetch(RAW["purchased"], ids)
    return {"total": total, "rows": len(rows), "n": len(trials) + len(services) + len(partners) + len(purchased)}


async def arrange(sessionmaker) -> tuple[int, object]:
    from server.domain import directory, trials
    from server.domain.actor import Actor, ActorKind
    from server.domain.service_options import TrialRequest
    from server.enums import Role, ServiceType

    async with sessionmaker() as db, db.begin():
        partner = await directory.create_partner(db, "Bench Partner")
        user = await directory.create_user(db, "sales@bench.example", [Role.SALES_FULL_ADMIN], partner_id=partner.id)
        actor = Actor(kind=ActorKind.PARTNER_USER, user_id=user.id, partner_id=partner.id,
                      roles=frozenset({Role.SALES_FULL_ADMIN}), email=user.email)
        for i in range(CUSTOMERS):
            customer = await directory.create_customer(db, f"Customer {i:03}", "NO", f"admin{i}@c{i}.example",
                                                       purchased=[ServiceType.MESSAGING], managed_by=partner.id)
            await trials.add_trial_to_paid_customer(db, actor, customer.id,
                                                    TrialRequest([ServiceType.CALLING, ServiceType.MEETINGS], 25, 90),
                                                    max_licenses=1000)
    return partner.id, actor


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run() -> None:
    import asyncpg

    from server import clock
    from server import graphql_http as gql
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

        async def api(first: int) -> None:
            context = Context(sessionmaker=sessionmaker, settings=settings, actor=actor)
            status, body, _ = await gql.run(schema._schema, documents, context, PAGE, {"first": first}, "Page")
            assert status == 200 and "errors" not in body, body

        timings: dict[tuple[str, int], list[float]] = {}
        for first in (50, 10):
            for _ in range(5):  # warm both paths
                await api(first)
                await raw_page(conn, partner_id, first)
            for _ in range(ROUNDS):  # interleaved, so both see the same machine noise
                for label, call in (("api", lambda: api(first)), ("raw", lambda: raw_page(conn, partner_id, first))):
                    started = time.perf_counter()
                    await call()
                    timings.setdefault((label, first), []).append(time.perf_counter() - started)
        await conn.close()
        await engine.dispose()
        print(f"customers page, {CUSTOMERS} customers with a 2-service trial each, {ROUNDS} interleaved rounds")
        print(f"{'page':>6} {'path':>5} {'p50 ms':>8} {'p95 ms':>8}")
        for first in (50, 10):
            for label in ("api", "raw"):
                values = timings[label, first]
                print(f"{first:>6} {label:>5} {pct(values, .5):8.2f} {pct(values, .95):8.2f}")
            ratio = statistics.median(timings["api", first]) / statistics.median(timings["raw", first])
            print(f"{first:>6} ratio api/raw p50 = {ratio:.1f}x")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
