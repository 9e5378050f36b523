"""R-AUDIT-02: the worker deletes audit events older than two years, once a day (and on start),
a batch per transaction until a batch comes back short: O(expired), never a long lock."""
from __future__ import annotations

import structlog

from jobs.runtime import Runtime
from server import clock
from server.domain.core import audit_log as log

logger = structlog.get_logger("retention")


async def purge_audit_events(runtime: Runtime, batch: int = log.RETENTION_BATCH) -> int:
    """Delete every expired audit event; how many went."""
    deleted = 0
    while True:
        async with runtime.sessionmaker() as db, db.begin():
            await clock.refresh(db)
            gone = await log.delete_expired(db, batch=batch)
        deleted += gone
        if gone < batch:
            break
    if deleted:
        logger.info("audit_events_deleted", count=deleted)
    return deleted
