"""The arq worker that `make run` starts (`trialdesk worker`): the web app's `provision_now` kick
provisions a new customer within seconds (R-NEW-04); Redis losing its queue loses no deadline."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest_asyncio

from jobs import kick
from jobs.sweep import run_due
from server.db.models import CustomerOrg, Trial
from tests.conftest import ROOT
from tests.timeline.conftest import new_customer_trial


@pytest_asyncio.fixture
async def worker(settings, smtp_sink, sessionmaker):
    env = {**os.environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_sink.port)}
    process = subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.sleep(2.5)                                       # started, startup sweep done
    assert process.poll() is None
    yield process
    process.send_signal(signal.SIGINT)
    try:
        await asyncio.to_thread(process.wait, 15)
    except subprocess.TimeoutExpired:
        process.kill()


async def _state(sessionmaker, trial_id) -> str:
    async with sessionmaker() as db:
        return (await db.get(Trial, trial_id)).state


async def test_r_new_04_provision_now_kick_provisions_within_seconds(app, sessionmaker, smtp_sink, worker):
    t = await new_customer_trial(sessionmaker)
    started = time.monotonic()
    assert await kick.provision_now(app.state.redis)
    while await _state(sessionmaker, t.trial_id) != "ACTIVE" or not smtp_sink.messages:
        assert time.monotonic() - started < 10, "not provisioned within 10 s"
        await asyncio.sleep(0.1)
    assert [m.kind for m in smtp_sink.messages] == ["welcome"]
    async with sessionmaker() as db:
        assert (await db.get(CustomerOrg, t.customer_id)).provisioning_status == "PROVISIONED"


async def test_r_time_redis_losing_the_queue_loses_nothing(app, settings, sessionmaker, runtime, smtp_sink):
    """The wake-up call is dropped from Redis; the deadline is a row, and the next sweep applies it."""
    t = await new_customer_trial(sessionmaker)
    job = await app.state.redis.enqueue_job("provision_now")
    await app.state.redis.delete(f"arq:queue:{settings.queue_name}", f"arq:job:{job.job_id}")  # Redis lost it
    assert await _state(sessionmaker, t.trial_id) == "PENDING_PROVISIONING"
    await run_due(runtime)                                         # the next cron sweep
    assert await _state(sessionmaker, t.trial_id) == "ACTIVE"
    assert [m.kind for m in smtp_sink.messages] == ["welcome"]
