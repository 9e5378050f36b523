"""Everything due now: deadlines, then the outbox. Shared by the arq cron job (every minute), the
`provision_now` job and `trialdesk jobs run-due`.

Claiming (DESIGN "Time is data"): open due rows are read through the partial index
`ix_deadlines_open_due` in due order, a batch at a time, so the cost is O(rows due), not O(rows).
On PostgreSQL the batch is locked with `FOR UPDATE SKIP LOCKED`: two or twenty sweepers never take
the same row. On SQLite every transaction starts with `BEGIN IMMEDIATE` (server/db/engine.py), which
takes the database's write lock: claimers run one after another, and each re-reads what is still
open, the safe equivalent. Each row is applied in its own savepoint inside the batch's
transaction: a failing row rolls back alone and is retried later with backoff (`attempts`,
`next_attempt_at`, `last_error`), never blocking the others; a crash rolls back the whole batch,
which the next sweep claims again (nothing is marked done that did not happen). Missed minutes are
simply rows with older `due_at`, caught up in order.
"""
from __future__ import annotations

import importlib
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.runtime import Runtime
from server import clock
from server.db.models import Deadline
from server.domain import timeline

log = structlog.get_logger("sweep")

BATCH = 200
#: Modules that register deadline handlers with @timeline.handles.
HANDLER_MODULES = ("server.domain.timed", "server.domain.shipments", "server.domain.calling")
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class SweepReport:
    deadlines: int = 0
    emails: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.deadlines + self.emails


def load_handlers() -> dict:
    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as error:
            if error.name != name:      # the module exists but is broken: say so
                raise
    return timeline.HANDLERS


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes, at most an hour. A deadline is never given up: none may be lost."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def due_query(now, limit: int, postgres: bool):
    stmt = (select(Deadline)
            .where(Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at <= now,
                   or_(Deadline.next_attempt_at.is_(None), Deadline.next_attempt_at <= now))
            .order_by(Deadline.due_at, Deadline.id).limit(limit))
    return stmt.with_for_update(skip_locked=True) if postgres else stmt


async def apply_one(db: AsyncSession, deadline: Deadline, handlers: dict, report: SweepReport) -> None:
    """Apply one claimed deadline in a savepoint; on failure record the error and back off."""
    handler = handlers.get(deadline.kind)
    try:
        async with db.begin_nested():
            if handler is None:
                raise LookupError(f"no handler for deadline kind {deadline.kind!r}")
            await handler(db, deadline)
            deadline.done_at = clock.now()
            await db.flush()
        report.deadlines += 1
    except Exception as error:  # noqa: BLE001 - one bad row must not stop the sweep
        await db.refresh(deadline)
        deadline.attempts = (deadline.attempts or 0) + 1
        deadline.next_attempt_at = clock.now() + backoff(deadline.attempts)
        deadline.last_error = "".join(traceback.format_exception_only(error)).strip()[:2000]
        report.failures.append(f"deadline {deadline.id} ({deadline.kind}): {deadline.last_error}")
        log.warning("deadline_failed", id=deadline.id, kind=deadline.kind, attempts=deadline.attempts,
                    error=deadline.last_error)


async def sweep_batch(runtime: Runtime, report: SweepReport, limit: int = BATCH) -> int:
    """Claim and apply one batch of due deadlines in one transaction; returns how many were claimed."""
    handlers = load_handlers()
    postgres = runtime.engine.dialect.name == "postgresql"
    async with runtime.sessionmaker() as db, db.begin():
        now = await clock.refresh(db)
        claimed = list(await db.scalars(due_query(now, limit, postgres)))
        for deadline in claimed:
            await apply_one(db, deadline, handlers, report)
    return len(claimed)


async def run_deadlines(runtime: Runtime, report: SweepReport | None = None) -> SweepReport:
    report = report or SweepReport()
    while await sweep_batch(runtime, report):
        pass
    return report


async def run_due(runtime: Runtime) -> SweepReport:
    """Apply due deadlines and flush the outbox until nothing is left."""
    from jobs import mailer

    started = time.perf_counter()
    report = SweepReport()
    while True:
        before = report.total
        await run_deadlines(runtime, report)
        report.emails += await mailer.flush(runtime, report.failures)
        if report.total == before:
            break
    report.seconds = time.perf_counter() - started
    return report
