"""What the HTTP benchmarks share (bench.compiled_page, bench.postgraphile): a throw-away database
with the partner integration's bearer token, our servers and the floor as subprocesses, and one
measurement of a call with wrk (or, without wrk, the httpx client): p50/p95 at one connection,
req/s at `CONCURRENCY`, and the server's own CPU per request read from /proc (robust to the other
work on the machine). wrk is C with two threads: it leaves the cores to the servers and PostgreSQL.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.customers_page import PG, REDIS, arrange, pct

CONCURRENCY = 8
WRK = shutil.which("wrk")
SECRET = "bench-" + "x" * 40


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass
class Figures:
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # server CPU seconds per request
    errors: int = 0

    def add(self, p50: float, p95: float, rate: float, cpu: float, errors: int) -> None:
        self.p50.append(p50)
        self.p95.append(p95)
        self.rate.append(rate)
        self.cpu.append(cpu)
        self.errors += errors


_LUA = """
wrk.method = [==[{method}]==]
{body}
{headers}
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _lua(call: Call) -> str:
    headers = "\n".join(f"wrk.headers[ [==[{k}]==] ] = [==[{v}]==]" for k, v in call.headers.items())
    body = f"wrk.body = [==[{call.body}]==]" if call.body is not None else ""
    return _LUA.format(method=call.method, body=body, headers=headers)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (uv → uvicorn → workers)."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def wrk(base: str, call: Call, connections: int, seconds: float, script_dir: str) -> tuple[float, float, float, int]:
    """(p50 s, p95 s, req/s, errors) of one wrk run."""
    script = Path(script_dir) / f"{uuid.uuid4().hex}.lua"
    script.write_text(_lua(call))
    threads = min(2, connections)
    out = subprocess.run([WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script),
                          base + call.path], capture_output=True, text=True, timeout=seconds + 60)
    if "RESULT" not in out.stdout:
        raise RuntimeError(f"wrk failed: {out.stdout} {out.stderr}")
    out = out.stdout
    requests, duration, p50, p95, status_errors, socket_errors = (int(x) for x in out.split("RESULT")[1].split())
    return p50 / 1e6, p95 / 1e6, requests / (duration / 1e6), status_errors + socket_errors


async def httpx_load(client, call: Call, connections: int, seconds: float) -> tuple[float, float, float, int]:
    """The same measurement with the Python client (when wrk is absent)."""
    timings: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker():
        nonlocal errors
        while time.perf_counter() < stop:
            began = time.perf_counter()
            response = await client.request(call.method, call.path, headers=call.headers, content=call.body)
            timings.append(time.perf_counter() - began)
            errors += response.status_code >= 400

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return pct(timings, .5), pct(timings, .95), len(timings) / (time.perf_counter() - began), errors


async def measure(base: str, client, call: Call, pid: int, latency_seconds: float, seconds: float,
                  script_dir: str) -> tuple[float, float, float, float, int]:
    """(p50 s, p95 s) at one connection, then (req/s, server CPU s per request) at CONCURRENCY, and errors."""
    if WRK:
        p50, p95, _, errors = wrk(base, call, 1, latency_seconds, script_dir)
        cpu = cpu_seconds(pid)
        _, _, rate, more = wrk(base, call, CONCURRENCY, seconds, script_dir)
    else:
        p50, p95, _, errors = await httpx_load(client, call, 1, latency_seconds)
        cpu = cpu_seconds(pid)
        _, _, rate, more = await httpx_load(client, call, CONCURRENCY, seconds)
    cpu = cpu_seconds(pid) - cpu
    return p50, p95, rate, cpu / max(1.0, rate * seconds), errors + more


def describe_load(rounds: int, latency_seconds: float, seconds: float) -> str:
    """The first line of a table of `measure` figures."""
    return (f"load: {'wrk' if WRK else 'httpx (wrk not found)'}, {rounds} interleaved rounds of {latency_seconds:.0f} s "
            f"at 1 connection then {seconds:.0f} s at {CONCURRENCY}; medians of rounds")


async def wait_ready(client, path: str = "/healthz", process: subprocess.Popen | None = None) -> None:
    """Until `path` answers HTTP (any status), for up to a minute; fails at once when `process` died."""
    import httpx

    for _ in range(300):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{client.base_url} exited with {process.returncode} before answering")
        try:
            await client.get(path)
            return
        except httpx.HTTPError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{client.base_url} did not start")


def server_env(url: str, base: str, name: str) -> dict[str, str]:
    """The environment of a bench server over the database at `url` (plain-HTTP cookies on loopback)."""
    return {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS, "BASE_URL": base, "TRIALDESK_ENV": "test",
            "SECRET_KEY": SECRET, "TRIALDESK_QUEUE": f"bench-{name}"}


def trialdesk_command(port: int, processes: int) -> list[str]:
    """`trialdesk serve` in this interpreter (TRIALDESK_COMPILED_OPERATIONS=0 in its env: the reference path)."""
    return [sys.executable, "-c", "from server.cli import main; main()", "serve", "--port", str(port),
            "--workers", str(processes)]


def floor_command(port: int, processes: int) -> list[str]:
    """The hand-written asyncpg floor (bench.floor_app) under uvicorn."""
    return [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--port", str(port),
            "--workers", str(processes), "--log-level", "warning", "--no-access-log"]


async def partner_database(customers: int, one_in: int):
    """A throw-away database with bench.customers_page's data (`customers`, one in `one_in` with a
    3-service trial and a device shipment) and the partner integration's token: (admin connection,
    name, url, token, the global ID of Customer 00000, which has a trial). Drop it with
    `drop_database(admin, name)`."""
    import asyncpg
    from sqlalchemy import select

    from server.auth.tokens import hash_token, new_token
    from server.db import migrate
    from server.db.engine import make_engine, make_sessionmaker
    from server.db.models import User
    from server.domain.orgs import directory
    from server.enums import Role
    from server.schema.node import to_global_id

    admin_dsn = PG.replace("postgresql+asyncpg", "postgresql")
    name = f"td_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = PG.rsplit("/", 1)[0] + "/" + name
        await asyncio.to_thread(migrate.upgrade, url)
        engine = make_engine(url)
        sessionmaker = make_sessionmaker(engine)
        await arrange(sessionmaker, customers, one_in)
        async with sessionmaker() as db, db.begin():  # the partner integration's token
            user = await db.scalar(select(User).where(User.email == "sales@bench.example"))
            token = new_token()
            await directory.create_api_token(db, user, hash_token(token), [Role.SALES_FULL_ADMIN], "bench")
        await engine.dispose()
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        detail = await conn.fetchval("SELECT id FROM customer_orgs WHERE name = 'Customer 00000'")
        await conn.close()
    except BaseException:
        await drop_database(admin, name)
        raise
    return admin, name, url, token, to_global_id("Customer", detail)


async def drop_database(admin, name: str) -> None:
    """Drop the bench database (with its connections) and close the admin connection."""
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()
