"""Wake the worker right after a commit that made work due now (R-NEW-04 provisioning).

    await kick.provision_now(info.context.redis)     # after the unit of work committed

Best effort: if Redis is down the cron sweep picks the PROVISION deadline up within a minute.

Coalesced per process: one `provision_now` job handles every deadline due when it runs,
so concurrent kicks share one enqueue. A caller joins the next enqueue that has not started yet
(one that starts after the caller's commit, so the job sees it), or starts one; at most one
enqueue per Redis is in flight. Under load (wrk, 16–32 connections on two processes) this turns
one enqueue per start into one per three to seven starts; a lone start still enqueues its own.
The enqueue writes what arq's `enqueue_job` writes in one round trip instead of three: 0.24 →
0.13 ms of CPU each (1000 of each, interleaved).
"""
from __future__ import annotations

import asyncio
import uuid
import weakref

import structlog
from arq.constants import job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms

log = structlog.get_logger("kick")


class _Coalescer:
    """The next enqueue that callers may still join, and whether one is running."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.next: asyncio.Future[bool] | None = None
        self.running: asyncio.Task | None = None


_coalescers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _enqueue(redis) -> bool:
    """What `ArqRedis.enqueue_job("provision_now")` writes (the job record and its place in the queue),
    in one round trip instead of three: its WATCH and EXISTS guard a caller-chosen job id against
    duplicates, and this job's id is random."""
    try:
        now = timestamp_ms()
        job_id = uuid.uuid4().hex
        async with redis.pipeline(transaction=True) as pipe:
            pipe.psetex(job_key_prefix + job_id, redis.expires_extra_ms,
                        serialize_job("provision_now", (), {}, None, now, serializer=redis.job_serializer))
            pipe.zadd(redis.default_queue_name, {job_id: now})
            await pipe.execute()
        return True
    except Exception as error:  # noqa: BLE001 - a lost wake-up costs a minute, never a deadline
        log.warning("kick_failed", error=f"{type(error).__name__}: {error}")
        return False


async def _drain(redis, state: _Coalescer) -> None:
    try:
        while state.next is not None:
            joined, state.next = state.next, None
            joined.set_result(await _enqueue(redis))
    finally:
        state.running = None


async def provision_now(redis) -> bool:
    """Enqueue the `provision_now` job on `redis` (an ArqRedis bound to the app's queue) after this
    call, shared with concurrent callers; True when it was queued."""
    loop = asyncio.get_running_loop()
    try:
        state = _coalescers.get(redis)
    except TypeError:  # not weak-referenceable, e.g. None where no Redis is configured: enqueue (and log) as is
        return await _enqueue(redis)
    if state is None or state.loop is not loop:
        state = _coalescers[redis] = _Coalescer(loop)
    if state.next is None:
        state.next = loop.create_future()
    joined = state.next
    if state.running is None:
        state.running = loop.create_task(_drain(redis, state))
    return await asyncio.shield(joined)
