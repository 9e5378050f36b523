"""The customer page's usage and the /my page, planned vs the reference path (issue 25 item 3: the
fields `TrialAdoption.services`, `TrialAdoption.daily(days:)`, `Partner.logoUrl`, `Partner.contactEmail`
declared, so `CustomerUsage` and `MyPage` are answered whole by the planner).

Data: one partner (a logo and a reply-to saved) with TRIALDESK_BENCH_ORGS customers (default 50), each
with one ACTIVE trial of MEETINGS, MESSAGING and CALLING started 40 days ago, and usage on every day of
the last 45: TRIALDESK_BENCH_USERS users (default 30) per service, two thirds of them active a day,
assigned licenses reported weekly; another partner's customers beside them (out of reach). Actor: the
partner's sales full admin (every customer). The documents: `CustomerUsage` (the customer page's usage:
each trial's adoption with services and daily(days: 30)) for one customer, `MyPage` (the first 5
customers with their trials' adoption, services, daily and the managing partner's logo), and
`CallingRequirement` (issue 25 item 2: planned as one statement since; the page runs it per calling
trial), `CustomerPage` + `CustomerUsage` + `CallingRequirement` as /customers/{id} runs them (its other
documents left out).

Both paths are `/graphql`'s own handler in-process (bench.planner_ratio's `Paths` and `Pair`: the
planned path with the app's planner, the reference path with none, the answers checked equal), in
paired rounds rotating which goes first, with the reference against itself (A/A); printed: median ms
of each path and the median of the rounds' ratios. The test clock off.

    uv run python -m bench customer_usage

Needs PostgreSQL (TRIALDESK_BENCH_PG) and Redis (TRIALDESK_BENCH_REDIS); a throw-away database.
"""
from __future__ import annotations

import asyncio
import os
import statistics
from datetime import timedelta

from bench.customers_page import PG, REDIS

ORGS = int(os.environ.get("TRIALDESK_BENCH_ORGS", "50"))
USERS = int(os.environ.get("TRIALDESK_BENCH_USERS", "30"))
ROUNDS = int(os.environ.get("TRIALDESK_BENCH_ROUNDS", "300"))


async def _arrange(app):
    from server import clock
    from server.db.models import Trial, TrialService
    from server.domain.core.actor import Actor, ActorKind
    from server.domain.orgs import directory
    from server.domain.partner_settings import settings as partner_settings
    from server.domain.usage import partitions, storage
    from server.domain.usage.lines import Activity, Assignment
    from server.enums import Role
    from tests import factories

    sessionmaker = app.state.sessionmaker
    mine = await factories.partner_team(sessionmaker, "Usage Partner")
    other = await factories.partner_team(sessionmaker, "Other Partner")
    now, today = clock.now(), clock.today()
    orgs = []
    async with sessionmaker() as db, db.begin():
        await partitions.ensure_partitions(db, partitions.months_needed(today))
        for n in range(2 * ORGS):
            team = mine if n % 2 == 0 else other
            customer = await directory.create_customer(db, f"Customer {n:04d}", "NO", f"admin{n}@c{n}.example",
                                                       managed_by=team.partner_id)
            trial = Trial(customer_id=customer.id, partner_id=team.partner_id, kind="NEW_CUSTOMER", state="ACTIVE",
                          license_count=40, duration_days=90, starts_at=now - timedelta(days=40),
                          ends_at=now + timedelta(days=50), created_at=now)
            db.add(trial)
            await db.flush()
            for service in ("MEETINGS", "MESSAGING", "CALLING"):
                db.add(TrialService(trial_id=trial.id, customer_id=customer.id, holds=False, service=service,
                                    license_count=40))
            orgs.append(customer.id)
        activities, assignments = [], []
        for n, org in enumerate(orgs):
            for ago in range(45):
                day = today - timedelta(days=ago)
                for s, service in enumerate(("MEETINGS", "MESSAGING", "CALLING")):
                    for u in range(USERS):
                        if (u + ago + s + n) % 3:
                            activities.append(Activity(0, org, day, service, f"user{u}", 1 + u % 7, (u + ago) % 50))
                    if ago % 7 == 0:
                        assignments.append(Assignment(0, org, day, service, 20 + ago % 11))
        await storage.write(db, activities, assignments)
        row = await partner_settings.row_for_update(db, mine.partner_id)
        row.reply_to, row.logo_hash, row.logo_type = "help@usage.example", "ab" * 32, "image/png"
    actor = Actor(kind=ActorKind.PARTNER_USER, user_id=mine.user_ids[Role.SALES_FULL_ADMIN], partner_id=mine.partner_id,
                  roles=frozenset({Role.SALES_FULL_ADMIN}), email=mine.emails[Role.SALES_FULL_ADMIN])
    return actor, orgs[0], len(activities)


async def _measure(app) -> None:
    from bench.planner_ratio import Pair, Paths, _how
    from server.pages.operations import read_operations
    from server.schema.node import to_global_id

    actor, customer, lines = await _arrange(app)
    from sqlalchemy import select

    from server.db.models import Trial

    async with app.state.sessionmaker() as db:
        trial = await db.scalar(select(Trial.id).where(Trial.customer_id == customer))
    operations = read_operations()
    customer_id = to_global_id("Customer", customer)
    cases = {
        "CustomerUsage": (operations["CustomerUsage"], actor, {"id": customer_id}, "CustomerUsage"),
        "MyPage": (operations["MyPage"], actor, {}, "MyPage"),
        "CustomerPage": (operations["CustomerPage"], actor, {"id": customer_id}, "CustomerPage"),
        "CallingRequirement": (operations["CallingRequirement"], actor, {"trialId": to_global_id("Trial", trial)},
                               "CallingRequirement"),
    }
    print(f"{2 * ORGS} customers ({ORGS} in reach), {USERS} users × 3 services × 45 days: {lines} usage lines; "
          f"{ROUNDS} paired rounds each")
    paths = Paths(app)
    pairs = {}
    for label, case in cases.items():
        pair = pairs[label] = Pair(case, await _how(app, case), label)
        for _ in range(10):  # warm: plans, statements, prepared on the connection
            await pair.round(paths)
        pair.ratios.clear(), pair.aa.clear(), pair.planned.clear(), pair.reference.clear()
    for _ in range(ROUNDS):  # interleaved: drift in the machine's load falls on every document alike
        for label, pair in pairs.items():
            if not await pair.round(paths):
                raise SystemExit(f"{label}: the planned answer differs from the reference's")
    for label, pair in pairs.items():
        print(f"  {label} ({pair.how}): planned p50 {statistics.median(pair.planned) * 1e3:.2f} ms, reference "
              f"{statistics.median(pair.reference) * 1e3:.2f} ms; ratio {pair.ratio:.3f} (A/A {pair.same:.3f})")
    both = ("CustomerPage", "CustomerUsage", "CallingRequirement")
    page = [sum(times) for times in zip(*(pairs[label].planned for label in both), strict=True)]
    ref = [sum(times) for times in zip(*(pairs[label].reference for label in both), strict=True)]
    print(f"  the customer page's documents ({' + '.join(both)}): planned p50 "
          f"{statistics.median(page) * 1e3:.2f} ms, reference {statistics.median(ref) * 1e3:.2f} ms")


async def run() -> None:
    from bench.scratch import started_app

    async with started_app(PG, REDIS, "td_bench") as app:
        if app is not None:
            await _measure(app)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
