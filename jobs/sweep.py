"""Everything due now: deadlines, then webhooks (jobs/webhooks.py), then the outbox. Shared by the arq cron job (every minute), the
`provision_now` job and `trialdesk jobs run-due`.

Claiming (DESIGN "Time is data"): open due rows are read through the partial index
`ix_deadlines_open_due` on (due_at, id), the claim's own order, a batch at a time: a claim reads
about a batch of entries and stops at its LIMIT, whatever the rows due or the total (rows due at
the same instant are not sorted first; migration 0004).
On PostgreSQL the batch is locked with `FOR UPDATE SKIP LOCKED`: two or twenty sweepers never take
the same row. On SQLite every transaction starts with `BEGIN IMMEDIATE` (server/db/engine.py), which
takes the database's write lock: claimers run one after another, and each re-reads what is still
open, the safe equivalent. A row is not claimed while an earlier open row of its subject is still to
apply, so a subject's deadlines apply in due order even when several worker processes sweep at once:
the later one is claimed by a sweep that starts after the earlier one committed.

Lanes: on PostgreSQL one sweeper keeps LANES batches in flight, each its own transaction on its own
connection, claimed with SKIP LOCKED like separate sweepers; while one waits for the database the
other runs Python, so the two halves of a transition's cost overlap (bench/sweep.py). Each lane
takes a share of the subjects (id modulo LANES), so one subject's deadlines never run in two lanes.

Applying: the batch is split into waves in which each subject appears once (a subject's
deadlines keep their due order), and each wave into groups of one kind. A kind with a batch handler
(the trial end rules) applies its whole group set-based in one savepoint: trials, names and
recipients loaded in a few queries, state moves, audit events, outbox rows and `done_at` written in
one statement per table (server/domain/timeline/set_based.py); a group whose batch raised is halved until
the failing row is alone. Other kinds go row by row, each in its own savepoint: a failing row rolls
back alone and is retried later with backoff (`attempts`, `next_attempt_at`, `last_error`), never
blocking the others. A crash rolls back the whole batch,
which the next sweep claims again (nothing is marked done that did not happen). Missed minutes are
simply rows with older `due_at`, caught up in order.
"""
from __future__ import annotations

import asyncio
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

import structlog
from sqlalchemy import and_, exists, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.runtime import Runtime
from server import clock
from server.db.models import Deadline
from server.domain.timeline import set_based
from server.domain import deadline_handlers

log = structlog.get_logger("sweep")

BATCH = 1000
#: Batches in flight at once per sweeper on PostgreSQL (run_deadlines).
LANES = 2
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class SweepReport:
    deadlines: int = 0
    emails: int = 0
    webhooks: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.deadlines + self.emails + self.webhooks


class Claimed(NamedTuple):
    """A claimed deadline (due_query's columns) as the handlers read it. A plain tuple: reading a
    field is a C-level index, where a SQLAlchemy Row's attribute lookup costs ~2 µs, and the sweep
    reads five per transition (bench/sweep.py)."""
    id: int
    kind: str
    subject_type: str
    subject_id: int
    attempts: int


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes, at most an hour. A deadline is never given up: none may be lost."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


def _ready(d, now):
    return and_(d.done_at.is_(None), d.cancelled_at.is_(None), or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now))


def due_query(now, limit: int, postgres: bool, lane: int = 0, lanes: int = 1):
    """Open due rows in due order; with several `lanes`, only the subjects of this one (see
    run_deadlines). A row waits while an earlier open row of its subject is still to apply (claimed
    by another worker process, not yet committed): a subject's deadlines apply one after another
    however many workers run (one probe of ix_deadlines_subject per row). An earlier row that is
    backing off does not hold the later ones back."""
    d = Deadline.__table__.c
    e = Deadline.__table__.alias("earlier").c
    earlier = (select(e.id).where(e.subject_type == d.subject_type, e.subject_id == d.subject_id, _ready(e, now),
                                  or_(e.due_at < d.due_at, and_(e.due_at == d.due_at, e.id < d.id)))
               .correlate(Deadline.__table__))
    stmt = (select(d.id, d.kind, d.subject_type, d.subject_id, d.attempts)
            .where(_ready(d, now), d.due_at <= now, ~exists(earlier))
            .order_by(d.due_at, d.id).limit(limit))
    if lanes > 1:
        stmt = stmt.where(d.subject_id % lanes == lane)
    return stmt.with_for_update(skip_locked=True) if postgres else stmt


def waves(claimed: list) -> list[list[list]]:
    """Split claimed rows (in due order) into waves in which each subject appears once, each wave a
    list of groups of one kind. A subject's deadlines keep their order across waves; within a wave
    the subjects are distinct, so a kind's group can be applied at once."""
    wave_of: dict[tuple[str, int], int] = {}
    result: list[dict[str, list]] = []
    for row in claimed:
        key = (row.subject_type, row.subject_id)
        wave = wave_of[key] = wave_of.get(key, -1) + 1
        if wave == len(result):
            result.append({})
        result[wave].setdefault(row.kind, []).append(row)
    return [list(groups.values()) for groups in result]


async def _done(db: AsyncSession, rows: list) -> None:
    ids = [row.id for row in rows]
    if set_based.on_postgres(db):
        await set_based.execute(db, "UPDATE deadlines SET done_at = $1 WHERE id = ANY(CAST(CAST($2 AS text) AS bigint[]))",
                                [clock.now(), set_based.int_array(ids)])
        return
    await db.execute(update(Deadline.__table__).where(Deadline.__table__.c.id.in_(ids)).values(done_at=clock.now()))


async def _failed(db: AsyncSession, row, error: Exception, report: SweepReport) -> None:
    attempts = (row.attempts or 0) + 1
    last_error = "".join(traceback.format_exception_only(error)).strip()[:2000]
    await db.execute(update(Deadline.__table__).where(Deadline.__table__.c.id == row.id).values(
        attempts=attempts, next_attempt_at=clock.now() + backoff(attempts), last_error=last_error))
    report.failures.append(f"deadline {row.id} ({row.kind}): {last_error}")
    log.warning("deadline_failed", id=row.id, kind=row.kind, attempts=attempts, error=last_error)


async def apply_one(db: AsyncSession, row, handlers: dict, report: SweepReport) -> None:
    """Apply one claimed deadline in a savepoint; on failure record the error and back off."""
    handler = handlers.get(row.kind)
    try:
        async with db.begin_nested():
            if handler is None:
                raise LookupError(f"no handler for deadline kind {row.kind!r}")
            await handler(db, row)
            await _done(db, [row])
        report.deadlines += 1
    except Exception as error:  # noqa: BLE001 - one bad row must not stop the sweep
        await _failed(db, row, error, report)


async def apply_group(db: AsyncSession, rows: list, report: SweepReport, batched: bool = True) -> None:
    """Apply deadlines of one kind with distinct subjects: set-based in one savepoint when the kind
    has a batch handler. If that raises, each half is applied the same way, down to the failing row,
    which goes alone (apply_one: its error recorded, backed off): one bad row costs about two batches
    of work, not a thousand single deadlines."""
    handlers = deadline_handlers.HANDLERS
    batch = deadline_handlers.BATCHED.get(rows[0].kind) if batched and len(rows) > 1 else None
    if batch is None:
        for row in rows:
            await apply_one(db, row, handlers, report)
        return
    try:
        async with db.begin_nested():
            await batch(db, rows)
            await _done(db, rows)
        report.deadlines += len(rows)
        return
    except Exception as error:  # noqa: BLE001 - find the row that fails, apply the others
        log.warning("deadline_batch_failed", kind=rows[0].kind, rows=len(rows), error=repr(error))
    half = len(rows) // 2
    await apply_group(db, rows[:half], report, batched)
    await apply_group(db, rows[half:], report, batched)


async def sweep_batch(runtime: Runtime, report: SweepReport, limit: int | None = None, batched: bool = True,
                      lane: int = 0, lanes: int = 1) -> int:
    """Claim and apply one batch of due deadlines (BATCH unless `limit`) in one transaction; returns
    how many were claimed.

    On PostgreSQL the batch commits without waiting for its WAL to reach the disk
    (`synchronous_commit = off` for this transaction): the next batch starts while it is flushed.
    Safe here: should the database crash before the flush, the batch is lost whole, its deadlines
    open again, and the next sweep applies them as after a worker crash. Nothing outside the
    database has acted on it: the mailer takes an email only after committing its lease, a
    synchronous commit, which flushes the WAL up to it, this batch's included (PostgreSQL flushes
    the WAL in order), and so does any other durable transaction that read what the batch wrote."""
    postgres = runtime.engine.dialect.name == "postgresql"
    async with runtime.sessionmaker() as db, db.begin():
        if postgres:
            await db.execute(text("SET LOCAL synchronous_commit = off"))
        now = await clock.refresh(db)
        claimed = [Claimed(*row) for row in await db.execute(due_query(now, limit or BATCH, postgres, lane, lanes))]
        for wave in waves(claimed):
            for rows in wave:
                await apply_group(db, rows, report, batched)
    return len(claimed)


async def run_deadlines(runtime: Runtime, report: SweepReport | None = None, *, batched: bool = True,
                        lanes: int | None = None) -> SweepReport:
    """Sweep until nothing is due. `batched=False` applies each deadline alone (the per-row path,
    kept as the fallback and for comparison in bench/sweep.py).

    On PostgreSQL `lanes` (default LANES) batches are in flight at once, each in its own transaction
    on its own connection: while one waits for the database the other runs its Python, so the
    worker's CPU and the database's overlap. Lane i takes the subjects whose id is i modulo `lanes`,
    so a subject's deadlines stay in one lane, applied in due order as with one. SQLite has one
    writer: one lane."""
    report = report or SweepReport()
    lanes = (lanes or LANES) if runtime.engine.dialect.name == "postgresql" else 1

    async def lane(i: int) -> None:
        while await sweep_batch(runtime, report, batched=batched, lane=i, lanes=lanes):
            pass

    await asyncio.gather(*(lane(i) for i in range(lanes)))
    return report


async def run_due(runtime: Runtime) -> SweepReport:
    """Apply due deadlines, flush the outbox and deliver webhooks until nothing is left (first, once
    a day, the usage work: server.domain.usage.daily)."""
    from jobs import mailer, webhooks
    from server.domain.usage import daily as usage_daily

    started = time.perf_counter()
    report = SweepReport()
    await usage_daily.run(runtime.sessionmaker)
    while True:
        before = report.total
        await run_deadlines(runtime, report)
        report.webhooks += await webhooks.flush(runtime)
        report.emails += await mailer.flush(runtime, report.failures)
        if report.total == before:
            break
    report.seconds = time.perf_counter() - started
    return report
