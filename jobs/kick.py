"""Wake the worker right after a commit that made work due now (R-NEW-04 provisioning).

    await kick.provision_now(info.context.redis)     # after the unit of work committed

Best effort: if Redis is down the cron sweep picks the PROVISION deadline up within a minute.

Coalesced per process (issue 5): one `provision_now` job handles every deadline due when it runs,
so concurrent kicks share one enqueue. A caller joins the next enqueue that has not started yet
(one that starts after the caller's commit, so the job sees it), or starts one; at most one
enqueue per Redis is in flight. Under load (32 concurrent starts) this turns one arq enqueue, three
Redis round trips, per start into one per handful of starts; a lone start still enqueues its own.
"""
from __future__ import annotations

import asyncio
import weakref

import structlog

log = structlog.get_logger("kick")


class _Coalescer:
    """The next enqueue that callers may still join, and whether one is running."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.next: asyncio.Future[bool] | None = None
        self.running: asyncio.Task | None = None


_coalescers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _enqueue(redis) -> bool:
    try:
        await redis.enqueue_job("provision_now")
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
