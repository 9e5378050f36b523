"""Crash safety (DESIGN "Time is data", SPEC §8): `trialdesk jobs run-due` killed with SIGKILL at
random points during sweeps and outbox flushes, then restarted. Every deadline is applied once,
every email delivered; a resend after a crash carries the same Message-ID, never a new one."""
from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jobs import mailer
from server import clock
from server.db.models import AuditEvent, Deadline
from tests.conftest import ROOT
from tests.factories import partner_team
from tests.timeline.conftest import emails_in_db, new_customer_trial


def _start(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "server.cli", "jobs", "run-due"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _progress(process: subprocess.Popen, smtp_sink, messages: int, timeout: float = 60) -> None:
    """Until the sink holds `messages` or the process ended: a kill at a point of progress, not of time
    (on a quiet machine a whole short run ends within a fixed sleep, and nothing is killed)."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and len(smtp_sink.messages) < messages and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def _crash_loop(sessionmaker, smtp_sink, kills: int, trials: int) -> dict:
    team = await partner_team(sessionmaker)
    arranged = [await new_customer_trial(sessionmaker, days=30, team=team) for _ in range(trials)]
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=61))               # a whole life due at once
    smtp_sink.handler.delay = 0.005
    env = {**os.environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_sink.port)}
    rng = random.Random(kills * 7919 + trials)
    killed = 0
    for index in range(kills):
        process = _start(env)
        if index % 2:                                             # start-up takes ~1 s; then sweep or flush
            await asyncio.sleep(rng.uniform(1.0, 2.0))
        else:                                                     # mid-flush: after a few more emails went out
            await _progress(process, smtp_sink, len(smtp_sink.messages) + rng.randint(1, 8))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        await asyncio.to_thread(process.wait)
        async with sessionmaker() as db, db.begin():               # a killed sender's lease runs out later
            await clock.advance(db, mailer.LEASE + timedelta(seconds=1))
    process = _start(env)
    assert await asyncio.to_thread(process.wait, 120) == 0
    rows = await emails_in_db(sessionmaker)
    received = Counter(m.message_id for m in smtp_sink.messages)
    async with sessionmaker() as db:
        open_due = await db.scalar(select(func.count()).select_from(Deadline).where(
            Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None)))
        actions = Counter(await db.scalars(select(AuditEvent.action).where(AuditEvent.actor == "system")))
    assert open_due == 0
    assert all(r.sent_at is not None and r.failed_at is None for r in rows)
    assert set(received) == {r.message_id for r in rows}          # every row delivered, no stranger
    assert len(rows) == len({r.dedup_key for r in rows})          # one Message-ID per dedup key
    for action in ("trial.provisioned", "trial.expired", "trial.released"):
        assert actions[action] == len(arranged), action
    assert actions["trial.warning_sent"] == 0                     # run after the end: no stale warning (issue 27)
    expected = len(arranged) * (1 + (2 + 4) + 3)                  # welcome, expired ×6, access ended ×3
    assert len(rows) == expected
    return {"killed": killed, "emails": len(rows), "resent": sum(c - 1 for c in received.values())}


async def test_r_time_crash_short_kill_9_three_times_nothing_lost_nothing_twice(sessionmaker, smtp_sink):
    result = await _crash_loop(sessionmaker, smtp_sink, kills=3, trials=12)
    print("crash loop:", result)
    assert result["killed"] >= 1


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_r_time_crash_long_kill_9_ten_times_nothing_lost_nothing_twice(sessionmaker, smtp_sink):
    result = await _crash_loop(sessionmaker, smtp_sink, kills=12, trials=60)
    print("crash loop:", result)
    assert result["killed"] >= 8
