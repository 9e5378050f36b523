"""Webhooks (issue 17): deliveries per second with one worker, and what the event rows add to a
startTrial. PostgreSQL at 127.0.0.1:5432 (TRIALDESK_BENCH_PG); a database of its own, dropped after.

1. startTrial's added cost. The webhook event is the audit event startTrial writes anyway; what the
   request pays is the nullable `webhooks_dispatched_at` (NULL: nothing written) and an entry per
   audit row in the partial index `ix_audit_events_undispatched`. Rounds of STARTS starts, in-process
   through the real ASGI app one at a time (bench.start_trial.profile's path), alternate between the
   schema with webhooks (column + index, and an endpoint listening to trial.started) and the baseline
   (index and column dropped, as before migration 0007). Wall and CPU per start, medians of rounds,
   as ratios webhooks / baseline. Target ≤ 1.05. The fan-out, later and in the worker, is reported
   apart (CPU per event).
2. Deliveries per second: ENDPOINTS endpoints of one partner on a receiver in its own process
   (tests/webhooks/receiver.py, uvicorn on loopback), EVENTS audit events each → EVENTS × ENDPOINTS
   deliveries, sent by one worker (`jobs.webhooks.flush` in this process: claim, sign, POST, record).
   Baseline in the same run: the same number of signed POSTs from the same aiohttp session with the
   same concurrency (one sequence per endpoint), with no database: the HTTP floor. Target ≥ 1000/s.

    uv run python -m bench webhooks

Figures (2026-12-04, 2 shared cores, other helpers' tests running): 3871/s, 0.88x the HTTP floor
(load 2.5-4); 1266/s, 0.84x in a busier period. Without the ANALYZE below: 513/s before the claim
turned bitmap scans and sorts off, 696/s after. httpx instead of aiohttp: 58-68/s (the floor itself
64/s: 1.1-1.6 ms of CPU per POST). startTrial: wall ratio 0.98 and 0.97 (load 3), 1.16 in a run beside
tests (app CPU 0.98-1.05). See also the README's benchmark table.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson

from bench.start_trial import PG, START, arrange, asgi_post, free_port, trial_input

STARTS = int(os.environ.get("TRIALDESK_BENCH_STARTS", "200"))
ROUNDS = int(os.environ.get("TRIALDESK_BENCH_ROUNDS", "6"))
ENDPOINTS = int(os.environ.get("TRIALDESK_BENCH_ENDPOINTS", "20"))
EVENTS = int(os.environ.get("TRIALDESK_BENCH_EVENTS", "1000"))
PARTS = os.environ.get("TRIALDESK_BENCH_PARTS", "start,deliveries").split(",")
ROOT = Path(__file__).resolve().parent.parent

DROP = ["DROP INDEX ix_audit_events_undispatched", "ALTER TABLE audit_events DROP COLUMN webhooks_dispatched_at"]
ADD = ["ALTER TABLE audit_events ADD COLUMN webhooks_dispatched_at timestamptz",
       "UPDATE audit_events SET webhooks_dispatched_at = at",
       "CREATE INDEX ix_audit_events_undispatched ON audit_events (id) WHERE webhooks_dispatched_at IS NULL"]


async def _starts(app, token: str, run: str, first: int) -> tuple[float, float]:
    bodies = [orjson.dumps({"query": START, "variables": {"input": trial_input(n, run)}})
              for n in range(first, first + STARTS)]
    cpu, wall = time.process_time(), time.perf_counter()
    for body in bodies:
        status, answer = await asgi_post(app, body, token)
        assert status == 200 and b'"userErrors":[]' in answer, answer[:300]
    return (time.perf_counter() - wall) / STARTS * 1000, (time.process_time() - cpu) / STARTS * 1000


async def start_trial_cost(url: str) -> None:
    import asyncpg
    from sqlalchemy import text

    from bench.start_trial import REDIS
    from jobs import webhooks
    from jobs.runtime import Runtime
    from server.app import create_app
    from server.db.models import WebhookEndpoint
    from server.domain.webhooks import secrets as webhook_secrets
    from server.settings import Settings
    from server import clock

    token = (await arrange(url, 1))[0]
    run = uuid.uuid4().hex[:8]
    settings = Settings(DATABASE_URL=url, REDIS_URL=REDIS, TRIALDESK_QUEUE=f"trialdesk-bench-{run}",
                        TRIALDESK_ENV="production", SECRET_KEY=secrets.token_urlsafe(48), TRIALDESK_TEST_CLOCK=False)
    app = create_app(settings)
    db_conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    async with app.router.lifespan_context(app):
        async with app.state.sessionmaker() as db, db.begin():
            partner_id = await db.scalar(text("SELECT id FROM partner_orgs LIMIT 1"))
            now = clock.now()
            db.add(WebhookEndpoint(partner_id=partner_id, url="https://hooks.example.com/x", description="bench",
                                   event_types=["trial.started"], enabled=True, failed_in_row=0, created_at=now,
                                   updated_at=now, secret_ciphertext=webhook_secrets.encrypt(settings.secret_key, "whsec_AAAA")))
        await _starts(app, token, run, 0)                                    # warm-up
        for sql in DROP:                                                     # each round sets its schema up
            await db_conn.execute(sql)
        first, results = STARTS, {"webhooks": [], "baseline": []}
        for i in range(ROUNDS * 2):
            kind = "webhooks" if i % 2 == 0 else "baseline"
            for sql in (ADD if kind == "webhooks" else DROP):
                await db_conn.execute(sql)
            results[kind].append(await _starts(app, token, run, first))
            first += STARTS
            if kind == "webhooks":
                await db_conn.execute("VACUUM ANALYZE audit_events")
        wall = {k: statistics.median(w for w, _ in v) for k, v in results.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in results.items()}
        print(f"startTrial, {ROUNDS} interleaved rounds of {STARTS} per schema, one at a time through the ASGI app:")
        print(f"  wall per start: webhooks {wall['webhooks']:.2f} ms, baseline {wall['baseline']:.2f} ms, "
              f"ratio {wall['webhooks'] / wall['baseline']:.3f} (target <= 1.05)")
        print(f"  app CPU per start: webhooks {cpu['webhooks']:.2f} ms, baseline {cpu['baseline']:.2f} ms, "
              f"ratio {cpu['webhooks'] / cpu['baseline']:.3f}")
        for sql in ADD:                                                      # the last round was the baseline
            await db_conn.execute(sql)
        await db_conn.execute("UPDATE audit_events SET webhooks_dispatched_at = NULL WHERE action = 'trial.started'")
        runtime = Runtime(settings=settings, engine=app.state.engine, sessionmaker=app.state.sessionmaker)
        events = await db_conn.fetchval("SELECT count(*) FROM audit_events WHERE webhooks_dispatched_at IS NULL")
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await webhooks.fan_out(runtime)
        cpu1, wall1 = time.process_time() - cpu0, time.perf_counter() - wall0
        print(f"  fan-out in the worker (later, not in the request): {events} events -> deliveries, "
              f"{cpu1 / events * 1000:.3f} ms CPU and {wall1 / events * 1000:.3f} ms wall per event")
    await db_conn.close()


async def _floor(port: int, bodies: list[str]) -> float:
    """The same signed POSTs from the same client, one sequence per endpoint, no database."""
    from jobs import webhooks
    from jobs.webhooks import Claimed

    secret = "whsec_" + "A" * 32
    rows = [Claimed(i, i % ENDPOINTS, f"msg_{i}", body, 0, f"http://127.0.0.1:{port}/hooks", "") for i, body in enumerate(bodies)]

    async def sequence(client, mine):
        for row in mine:
            async with client.post(row.url, data=row.payload.encode(), headers=webhooks.headers(row, secret, 1)) as answer:
                await answer.read()
                assert answer.status == 200

    started = time.perf_counter()
    async with webhooks.client() as client:
        await asyncio.gather(*(sequence(client, rows[e::ENDPOINTS]) for e in range(ENDPOINTS)))
    return len(rows) / (time.perf_counter() - started)


async def deliveries_per_second(url: str) -> None:
    from sqlalchemy import func, select, text

    from jobs import webhooks
    from jobs.runtime import Runtime
    from server import clock
    from server.db.engine import make_engine, make_sessionmaker
    from server.db.models import AuditEvent, WebhookDelivery, WebhookEndpoint
    from server.domain.core import audit
    from server.domain.webhooks import secrets as webhook_secrets
    from server.domain.core.actor import SYSTEM
    from server.settings import Settings

    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "tests.webhooks.receiver", str(port), "-"], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    settings = Settings(DATABASE_URL=url, TRIALDESK_ENV="dev", SECRET_KEY=secrets.token_urlsafe(48))
    engine = make_engine(url)
    runtime = Runtime(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine))
    try:
        await asyncio.sleep(1.5)
        if "start" not in PARTS:
            await arrange(url, 1)
        async with runtime.sessionmaker() as db, db.begin():
            partner_id = (await db.execute(text("SELECT id FROM partner_orgs LIMIT 1"))).scalar()
            await db.execute(text("UPDATE audit_events SET webhooks_dispatched_at = at"))
            await db.execute(text("DELETE FROM webhook_endpoints"))
            now = clock.now()
            for i in range(ENDPOINTS):
                db.add(WebhookEndpoint(partner_id=partner_id, url=f"http://127.0.0.1:{port}/hooks/{i}", description="",
                                       event_types=["trial.extended"], enabled=True, failed_in_row=0, created_at=now,
                                       updated_at=now,
                                       secret_ciphertext=webhook_secrets.encrypt(settings.secret_key, webhook_secrets.new_secret())))
            await db.flush()
            await audit.record_many(db, [audit.event(SYSTEM, "trial.extended", "Trial", n, partner_id=partner_id,
                                                     after={"state": "ACTIVE", "endsAt": now.isoformat()})
                                         for n in range(EVENTS)])
        started = time.perf_counter()
        await webhooks.fan_out(runtime)
        fanned = time.perf_counter() - started
        async with runtime.sessionmaker() as db, db.begin():
            # What autovacuum does to a table that grew by 20k rows; without it the claim plans for a
            # table of 0 rows: a bitmap scan and a sort of every pending row per batch, O(backlog).
            await db.execute(text("ANALYZE webhook_deliveries"))
        async with runtime.sessionmaker() as db:
            total = await db.scalar(select(func.count()).select_from(WebhookDelivery))
            bodies = list(await db.scalars(select(WebhookDelivery.payload).order_by(WebhookDelivery.id)))
        floor = await _floor(port, bodies)
        cpu, started = time.process_time(), time.perf_counter()
        delivered = await webhooks.flush(runtime)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rate = delivered / seconds
        print(f"deliveries: {EVENTS} events x {ENDPOINTS} endpoints = {total} deliveries "
              f"(fan-out {total / fanned:.0f} deliveries/s made)")
        print(f"  one worker: {delivered} delivered in {seconds:.2f} s = {rate:.0f}/s (target >= 1000/s), "
              f"worker CPU {cpu / delivered * 1000:.3f} ms/delivery")
        print(f"  HTTP floor (same client and concurrency, no database): {floor:.0f}/s; ratio worker/floor {rate / floor:.2f}")
        assert delivered == total
        async with runtime.sessionmaker() as db:
            assert await db.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.webhooks_dispatched_at.is_(None))) == 0
    finally:
        receiver.kill()
        await engine.dispose()


async def main_async() -> None:
    import asyncpg

    from server.db import migrate

    admin = await asyncpg.connect(PG.replace("postgresql+asyncpg", "postgresql"))
    name = f"td_bench_wh_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        if "start" in PARTS:
            await start_trial_cost(url)
        if "deliveries" in PARTS:
            await deliveries_per_second(url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} (2 shared cores: figures are noisy)")
    asyncio.run(main_async())


if __name__ == "__main__":
    main()
