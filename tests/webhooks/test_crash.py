"""A kill -9 loses no webhook delivery (issue 17 item 3), tested like the mail outbox
(tests/timeline/test_crash.py): `trialdesk jobs run-due` is killed while a real receiver holds its
request; then the receiver, a process of its own, is killed mid-request; then a healthy receiver
answers. Every event arrives, every signature verifies, a resend carries the same webhook-id."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from jobs import webhooks
from server import clock
from server.db.models import WebhookDelivery
from server.domain.core import audit
from server.domain.core.actor import SYSTEM
from tests.conftest import ROOT
from tests.webhooks.conftest import admin, create_endpoint, verify
from tests.webhooks.receiver import Receiver, free_port

EVENTS = 12


def _process(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def _lines(path, at_least: int, timeout: float = 60) -> list[dict]:
    for _ in range(int(timeout * 20)):
        if os.path.exists(path):
            lines = [json.loads(line) for line in open(path).read().splitlines()]
            if len(lines) >= at_least:
                return lines
        await asyncio.sleep(0.05)
    raise AssertionError(f"the receiver got fewer than {at_least} requests")


async def _kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    await asyncio.to_thread(process.wait)


async def test_kill_9_of_worker_and_receiver_mid_request_loses_no_delivery(client, team, sessionmaker, tmp_path):
    port = free_port()
    _, secret = await create_endpoint(client, admin(team), f"http://127.0.0.1:{port}/hooks")
    async with sessionmaker() as db, db.begin():
        for i in range(EVENTS):
            audit.record(db, SYSTEM, "trial.extended", "Trial", 500 + i, partner_id=team.partner_id, after={"n": i})
    log = tmp_path / "received.jsonl"
    hanging = _process("-m", "tests.webhooks.receiver", str(port), str(log), "60")
    worker = _process("-m", "server.cli", "jobs", "run-due")
    try:
        first = await _lines(log, 1)                                  # the worker is waiting for an answer
        await _kill(worker)                                           # kill -9 mid-request
        async with sessionmaker() as db, db.begin():                  # its lease runs out
            await clock.advance(db, webhooks.LEASE + timedelta(seconds=1))
        worker = _process("-m", "server.cli", "jobs", "run-due")
        await _lines(log, 2)
        await _kill(hanging)                                          # the receiver dies mid-request
        assert await asyncio.to_thread(worker.wait, 60) == 0          # the worker records failed attempts
    finally:
        for process in (hanging, worker):
            if process.poll() is None:
                await _kill(process)
    async with sessionmaker() as db:
        pending = list(await db.execute(select(WebhookDelivery.status, WebhookDelivery.attempts)))
    assert len(pending) == EVENTS and all(status == "PENDING" for status, _ in pending)
    healthy = await Receiver(port=port).start()
    try:
        async with sessionmaker() as db, db.begin():
            await clock.advance(db, timedelta(minutes=1))
        worker = _process("-m", "server.cli", "jobs", "run-due")
        assert await asyncio.to_thread(worker.wait, 60) == 0
    finally:
        await healthy.stop()
    async with sessionmaker() as db:
        rows = list(await db.execute(select(WebhookDelivery.status, WebhookDelivery.webhook_id)))
    assert [status for status, _ in rows] == ["DELIVERED"] * EVENTS
    received = Counter(r.headers["webhook-id"] for r in healthy.requests)
    assert set(received) == {webhook_id for _, webhook_id in rows}              # every event, none twice here
    assert all(count == 1 for count in received.values())
    assert first[0]["headers"]["webhook-id"] in received                          # the one cut off, again
    assert all(verify(secret, r.headers, r.body) for r in healthy.requests)
    assert [json.loads(r.body)["data"]["object"]["n"] for r in healthy.requests] == list(range(EVENTS))
