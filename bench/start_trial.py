"""`startTrial` throughput (issue 5): `trialdesk serve --workers 2` on a free port against its own
PostgreSQL database, loaded over loopback by an async httpx client with CONCURRENCY requests in
flight (a bounded load: at most that many at once). Every request starts a trial for a new customer
with a bearer token; an error is any non-200 answer, a GraphQL error or a userError. Prints
requests/s, latency p50/p95 and the error count. Target: ≥ 300/s with zero errors.

Needs PostgreSQL at 127.0.0.1:5432 (TRIALDESK_BENCH_PG) and Redis at 127.0.0.1:6379
(TRIALDESK_BENCH_REDIS; startTrial queues provisioning, on a queue of its own that is deleted at the end).

    uv run python -m bench.start_trial

Measured here (2 cores shared by the server, PostgreSQL, the load client and other work): 51–65/s,
p50 490–600 ms, p95 0.8–1.1 s, zero errors. CPU-bound: one startTrial costs ≈ 11 ms of CPU in the
web process before HTTP and auth (14 statements; SQLAlchemy's unit of work is a third of it), so two
processes on two shared cores cannot reach 300/s here.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

PG = os.environ.get("TRIALDESK_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("TRIALDESK_BENCH_REDIS", "redis://127.0.0.1:6379/0")
WORKERS = 2
CONCURRENCY = int(os.environ.get("TRIALDESK_BENCH_CONCURRENCY", "32"))
REQUESTS = int(os.environ.get("TRIALDESK_BENCH_REQUESTS", "3000"))
WARMUP = 100
#: One token, as an integration has. More tokens (no shared `last_used_at` row) measured the same:
#: the row lock on the one token is not the limit, CPU is.
TOKENS = int(os.environ.get("TRIALDESK_BENCH_TOKENS", "1"))
START = """mutation($input: StartTrialInput!) { startTrial(input: $input) {
  trial { id state customer { id } } userErrors { code field message } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def arrange(url: str, tokens: int = 1) -> list[str]:
    """A certified partner and a SALES_FULL_ADMIN with `tokens` API tokens; returns the bearer tokens."""
    from server.auth.tokens import hash_token, new_token
    from server.db.engine import make_engine, make_sessionmaker
    from server.domain import directory
    from server.enums import Role

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            partner = await directory.create_partner(db, "Bench Partner")
            user = await directory.create_user(db, "sales@bench.example", [Role.SALES_FULL_ADMIN], partner_id=partner.id)
            secrets_ = [new_token() for _ in range(tokens)]
            for token in secrets_:
                await directory.create_api_token(db, user, hash_token(token), [Role.SALES_FULL_ADMIN], "bench")
    finally:
        await engine.dispose()
    return secrets_


def trial_input(n: int, run: str) -> dict:
    return {"companyName": f"Bench {run} {n}", "adminEmail": f"admin{n}@bench-{run}-{n}.example",
            "businessVertical": "Retail", "country": "NO", "supportedLocationConfirmed": True,
            "services": ["MESSAGING", "MEETINGS"], "licenseCount": 50, "durationDays": 90}


async def load(base_url: str, tokens: list[str], run: str, first: int, count: int) -> tuple[float, list[float], list[str]]:
    """`count` startTrial requests, at most CONCURRENCY in flight; (seconds, latencies, errors)."""
    import httpx

    numbers = iter(range(first, first + count))
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        async def one_client(token: str) -> None:
            for n in numbers:
                started = time.perf_counter()
                try:
                    response = await client.post("/graphql", json={"query": START,
                                                                   "variables": {"input": trial_input(n, run)}},
                                                 headers={"Authorization": f"Bearer {token}"})
                except httpx.HTTPError as error:
                    errors.append(f"{type(error).__name__}: {error}")
                    continue
                latencies.append(time.perf_counter() - started)
                body = response.json() if response.status_code == 200 else {}
                payload = (body.get("data") or {}).get("startTrial") or {}
                if response.status_code != 200 or body.get("errors") or payload.get("userErrors") \
                        or not payload.get("trial"):
                    errors.append(f"{response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(one_client(tokens[i % len(tokens)]) for i in range(CONCURRENCY)))
        return time.perf_counter() - started, latencies, errors


async def wait_healthy(base_url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become healthy")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


async def run() -> None:
    import asyncpg
    from redis.asyncio import Redis

    from server.db import migrate

    admin_dsn = PG.replace("postgresql+asyncpg", "postgresql")
    run_id = uuid.uuid4().hex[:8]
    name, queue = f"td_bench_{run_id}", f"trialdesk-bench-{run_id}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + "/" + name
    server = None
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        tokens = await arrange(url, TOKENS)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS, "TRIALDESK_QUEUE": queue,
               "TRIALDESK_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
               "BASE_URL": f"http://127.0.0.1:{port}"}
        env.pop("TRIALDESK_TEST_CLOCK", None)
        trialdesk = Path(sys.executable).with_name("trialdesk")
        server = subprocess.Popen([str(trialdesk), "serve", "--workers", str(WORKERS), "--port", str(port)],
                                  env=env, start_new_session=True)
        base_url = f"http://127.0.0.1:{port}"
        await wait_healthy(base_url, server)
        _, _, warm_errors = await load(base_url, tokens, run_id, 0, WARMUP)
        seconds, latencies, errors = await load(base_url, tokens, run_id, WARMUP, REQUESTS)
        errors += warm_errors
        print(f"startTrial, {WORKERS} web processes, PostgreSQL, {CONCURRENCY} concurrent requests over loopback, "
              f"{TOKENS} API token(s)")
        print(f"{REQUESTS} requests in {seconds:.1f}s = {REQUESTS / seconds:.0f}/s; latency p50 {pct(latencies, .5):.1f} ms, "
              f"p95 {pct(latencies, .95):.1f} ms; errors {len(errors)} (warm-up {WARMUP} included)")
        for error in errors[:5]:
            print("  error:", error)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # uvicorn's supervisor and its workers (our own group)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        redis = Redis.from_url(REDIS)
        try:  # the provisioning jobs nobody will run: the queue and its job records
            jobs = [f"arq:job:{job.decode()}" for job in await redis.zrange(queue, 0, -1)]
            for chunk in range(0, len(jobs), 500):
                await redis.delete(*jobs[chunk:chunk + 500])
            await redis.delete(queue)
        finally:
            await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
