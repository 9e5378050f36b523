"""The webhook sender: fan-out, then delivery of every due delivery.

Like the mail outbox (jobs/mailer.py): a batch of due deliveries is claimed in a short transaction
(SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite) by leasing it (`leased_until` and
`next_attempt_at` move LEASE ahead); no database lock is held while POSTing. The outcomes of a
batch are written in one transaction when it is done. A worker killed mid-batch (kill -9) leaves
its rows leased: when the lease runs out another worker sends them again, with the same
`webhook-id` and body, so a receiver that got one before drops the copy (at-least-once).

Order per endpoint: deliveries are claimed in id order (event order), and one endpoint's are
POSTed one after another. A delivery is not claimed while an earlier one of its endpoint is leased
(in flight at another worker). When an attempt fails, the endpoint's later deliveries of the batch
are not sent: each records a failed attempt saying why and retries on its own schedule, so a
down endpoint's deliveries retry together, in event order. Order holds except where a retry is
still pending: a later event is not held back for a day behind an earlier one.
At most PER_ENDPOINT deliveries of one endpoint per batch, so a batch of 10-second timeouts ends
within the lease. Endpoints are served concurrently (one keep-alive connection pool).

Each POST: `content-type: application/json`, the Standard Webhooks headers (`webhook-id`,
`webhook-timestamp`, `webhook-signature`, server/domain/webhooks/secrets.py), a 10 s timeout, no
redirects followed, the URL's addresses checked again (server/domain/webhooks/urls.py), and the
connection made only to addresses that check allowed (`CheckedResolver`: no DNS rebinding).
"""
from __future__ import annotations

import asyncio
import socket
import time
from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

import aiohttp
import aiohttp.abc
import structlog
from sqlalchemy import exists, or_, select, text, update

from jobs.runtime import Runtime
from server import clock
from server.db.models import WebhookDelivery, WebhookEndpoint
from server.domain.webhooks import attempts as webhook_attempts
from server.domain.webhooks import fanout as webhook_fanout
from server.domain.webhooks import secrets as webhook_secrets
from server.domain.webhooks import urls as webhook_urls
from server.domain.core.errors import DomainError
from server.domain.webhooks.attempts import Outcome

log = structlog.get_logger("webhooks")

BATCH = 500
PER_ENDPOINT = 20
LEASE = timedelta(minutes=5)
TIMEOUT = 10.0
USER_AGENT = "Trialdesk-Webhooks/1"


class Claimed(NamedTuple):
    id: int
    endpoint_id: int
    webhook_id: str
    payload: str
    attempts: int
    url: str
    secret_ciphertext: str


async def fan_out(runtime: Runtime) -> int:
    """Fan out every undispatched audit event; returns how many events were read."""
    total = 0
    while True:
        async with runtime.sessionmaker() as db, db.begin():
            await clock.refresh(db)
            claimed = await webhook_fanout.fan_out(db)
        total += claimed
        if claimed < webhook_fanout.BATCH:
            return total


async def claim(runtime: Runtime, limit: int = BATCH) -> list[Claimed]:
    postgres = runtime.engine.dialect.name == "postgresql"
    d = WebhookDelivery.__table__.c
    e = WebhookEndpoint.__table__.c
    async with runtime.sessionmaker() as db, db.begin():
        now = await clock.refresh(db)
        if postgres:
            # The pending rows in id order from their index, up to the batch: never a bitmap scan and a
            # sort of every pending row, which is what the planner chose for a backlog that grew since
            # the table's last ANALYZE (20k rows: 0.3-0.5 s per claim, bench/webhooks.py).
            await db.execute(text("SET LOCAL enable_bitmapscan = off"))
            await db.execute(text("SET LOCAL enable_sort = off"))
        s = WebhookDelivery.__table__.alias("earlier").c
        # Leased rows only (every outcome clears the lease): the probe reads ix_webhook_deliveries_leased,
        # a handful of entries, never the pending index (a status condition here made PostgreSQL AND
        # the two per row, O(pending) per row: 0.3-0.5 s per claim at 20k pending).
        in_flight = select(s.id).where(s.endpoint_id == d.endpoint_id, s.leased_until.is_not(None), s.id < d.id,
                                       s.leased_until > now).correlate(WebhookDelivery.__table__)
        stmt = (select(d.id, d.endpoint_id, d.webhook_id, d.payload, d.attempts, e.url, e.secret_ciphertext)
                .join(WebhookEndpoint.__table__, e.id == d.endpoint_id)
                .where(d.status == "PENDING", or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now),
                       e.enabled.is_(True), ~exists(in_flight))
                .order_by(d.id).limit(limit))
        if postgres:
            stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery.__table__)
        taken: dict[int, int] = defaultdict(int)
        rows = []
        for row in await db.execute(stmt):
            if taken[row.endpoint_id] < PER_ENDPOINT:
                taken[row.endpoint_id] += 1
                rows.append(Claimed(*row))
        if rows:
            await db.execute(update(WebhookDelivery.__table__).where(d.id.in_([r.id for r in rows]))
                             .values(leased_until=now + LEASE, next_attempt_at=now + LEASE))
    return rows


def headers(row: Claimed, secret: str, timestamp: int) -> dict[str, str]:
    return {"content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": row.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_secrets.sign(secret, row.webhook_id, timestamp, row.payload)}


async def _post(client: aiohttp.ClientSession, row: Claimed, secret: str | None, problem: str | None) -> Outcome:
    at = clock.now()
    # `webhook-timestamp` is a transport fact: the wall clock, never the test clock, so a receiver's
    # tolerance check (README: 5 minutes) passes while the event's own data carries the product's time.
    outcome = Outcome(delivery_id=row.id, endpoint_id=row.endpoint_id, attempts=row.attempts, at=at,
                      timestamp=int(time.time()))
    if problem is not None:
        outcome.error = problem
        return outcome
    started = time.perf_counter()
    try:
        async with client.post(row.url, data=row.payload.encode(), headers=headers(row, secret, outcome.timestamp),
                               allow_redirects=False) as response:
            outcome.status = response.status
            outcome.body = (await response.content.read(webhook_attempts.RESPONSE_LIMIT * 4)).decode(
                "utf-8", "replace")[:webhook_attempts.RESPONSE_LIMIT]
        if not 200 <= outcome.status < 300:
            outcome.error = f"HTTP {outcome.status}"
    except asyncio.TimeoutError:
        outcome.error = f"no answer within {TIMEOUT:g} s"
    except aiohttp.ClientError as error:
        outcome.error = f"{type(error).__name__}: {error}"
    outcome.latency_ms = int((time.perf_counter() - started) * 1000)
    return outcome


async def _problem(runtime: Runtime, row: Claimed) -> tuple[str | None, str | None]:
    """(secret, None) when the endpoint may be called now, else (None, why not)."""
    try:
        await webhook_urls.check(row.url, production=runtime.settings.env == "production")
        return webhook_secrets.decrypt(runtime.settings.secret_key, row.secret_ciphertext), None
    except DomainError as error:
        return None, error.message
    except webhook_secrets.SecretUnreadable as error:
        return None, str(error)


async def _endpoint(runtime: Runtime, client: aiohttp.ClientSession, rows: list[Claimed], outcomes: list[Outcome]) -> None:
    """One endpoint's deliveries of the batch, in order. After a failed attempt the rest are not
    sent: each counts a failed attempt saying so, and retries on its own schedule, behind it."""
    secret, problem = await _problem(runtime, rows[0])
    for row in rows:
        outcome = await _post(client, row, secret, problem)
        outcomes.append(outcome)
        if not outcome.ok and problem is None:
            problem = f"not sent: the delivery before it to this endpoint failed ({outcome.error})"


async def send_batch(runtime: Runtime, client: aiohttp.ClientSession, rows: list[Claimed]) -> int:
    """POST a claimed batch; returns how many were delivered."""
    by_endpoint: dict[int, list[Claimed]] = defaultdict(list)
    for row in rows:
        by_endpoint[row.endpoint_id].append(row)
    outcomes: list[Outcome] = []
    await asyncio.gather(*(_endpoint(runtime, client, group, outcomes) for group in by_endpoint.values()))
    async with runtime.sessionmaker() as db, db.begin():
        await webhook_attempts.record(db, outcomes, base_url=runtime.settings.base_url)
    for outcome in outcomes:
        if not outcome.ok:
            log.warning("webhook_attempt_failed", delivery=outcome.delivery_id, endpoint=outcome.endpoint_id,
                        attempts=outcome.attempts + 1, error=outcome.error)
    return sum(o.ok for o in outcomes)


class CheckedResolver(aiohttp.abc.AbstractResolver):
    """The connection's own DNS answer, checked (server/domain/webhooks/urls.allowed): a host is
    connected to only when every address it resolves to may be called, and only to those addresses,
    so DNS that changes between `_problem`'s check and the connection (rebinding) reaches nothing
    else. IP literals are not resolved: `_problem` checked them and they cannot change."""

    def __init__(self, production: bool) -> None:
        self.production = production
        self.inner = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family=socket.AF_INET) -> list:
        found = await self.inner.resolve(host, port, family)
        refused = [r["host"] for r in found if not webhook_urls.allowed(r["host"], production=self.production)]
        if refused or not found:
            raise OSError(f"{host} resolves to an address webhooks may not call ({', '.join(refused)})")
        return found

    async def close(self) -> None:
        await self.inner.close()


def client(production: bool = False) -> aiohttp.ClientSession:
    """One keep-alive pool for a flush. aiohttp rather than httpx (also a dependency): ~0.1 ms of CPU
    per POST against httpx's 1.1-1.6 ms on this machine (same receiver, 1 and 20 concurrent), which
    decides deliveries per second for one worker (bench/webhooks.py). Connections go only to
    addresses `CheckedResolver` allowed."""
    connector = aiohttp.TCPConnector(limit=200, resolver=CheckedResolver(production))
    return aiohttp.ClientSession(connector=connector, trust_env=False,
                                 timeout=aiohttp.ClientTimeout(total=TIMEOUT), auto_decompress=False)


async def flush(runtime: Runtime) -> int:
    """Fan out, then send everything due now; returns how many deliveries succeeded."""
    await fan_out(runtime)
    delivered = 0
    async with client(runtime.settings.env == "production") as http:
        while rows := await claim(runtime):
            delivered += await send_batch(runtime, http, rows)
    return delivered
