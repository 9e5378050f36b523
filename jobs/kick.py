"""Wake the worker right after a commit that made work due now (R-NEW-04 provisioning).

    await kick.provision_now(info.context.redis)     # after the unit of work committed

Best effort: if Redis is down the cron sweep picks the PROVISION deadline up within a minute.
"""
from __future__ import annotations

import structlog

log = structlog.get_logger("kick")


async def provision_now(redis) -> bool:
    """Enqueue the `provision_now` job on `redis` (an ArqRedis bound to the app's queue)."""
    try:
        await redis.enqueue_job("provision_now")
        return True
    except Exception as error:  # noqa: BLE001 - a lost wake-up costs a minute, never a deadline
        log.warning("kick_failed", error=f"{type(error).__name__}: {error}")
        return False
