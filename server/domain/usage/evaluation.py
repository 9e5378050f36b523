"""R-USE-07: the daily evaluation of trials' health. Once a day (the first sweep of a UTC day by the
clock claims it: server.domain.usage.daily) the trials whose health may have changed are evaluated by
`adoption.summary` (the one function every read uses) and recorded in `trial_adoption_health`; a
change is the audit event `trial.adoption_changed` (before: the previous health), which the webhook
fan-out publishes as the event of the same name (server.domain.webhooks.events): once per change,
never on a read.

Bounded transactions: the day's claim marks the trials whose health may have changed due today
(`mark`: their row's check day set to today, one set-based statement per kind, no usage read), then
the due trials are evaluated 1,000 per transaction (`due`, `evaluate`; server.domain.usage.daily),
so the first evaluation of 100,000 trials is 100 short transactions, and a worker stopped midway
leaves the rest due, evaluated by the next sweep.

Which trials, O(trials whose health may have changed), not O(all trials):
- the trials of the orgs whose usage an ingest changed since the last evaluation (the ingest marks
  them in `usage_changed_orgs` in its own transaction; the evaluation takes the marks it reads, so
  an ingest that commits while it runs is seen the next day);
- the trials whose recorded `next_check_on` has come: the day their health may change by time alone
  (`adoption.next_check`: a NOT_STARTED trial's 8th day, 7 days after a trial's last active day, the
  day enough of a HEALTHY trial's active users have left the 30-day window), so a trial with
  unchanged usage is looked at on the day its health moves and not on the others;
- the trials with an audit event (other than this evaluation's own) since the day of the last
  evaluation: a trial changes only through
  audited moves (started, provisioned, edited — licenses and services —, extended, expired,
  converted, cancelled, released), so these are the trials that entered or left ACTIVE and EXPIRED
  or whose license count or services changed;
- the first evaluation ever (no last one) looks at every ACTIVE and EXPIRED trial, once.

Decisions where the SPEC is silent:
- An event needs a health before and after: a trial's first health (it became ACTIVE) is recorded
  without one, and so is a health lost when the trial leaves ACTIVE and EXPIRED (converted,
  cancelled, released): those moves are events of their own (trial.provisioned, trial.converted …).
- The event's object is the trial with its state, its new health and the figures that decided it
  (activeUsers30d, activation, lastActiveOn); `previousAttributes` holds the previous health.
- Missed days (no worker): the next evaluation finds every trial whose check day has passed, the
  marks and the audit events since the last evaluation's day: one change event per trial, from
  the health recorded to the health now.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Date, delete, literal, null, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AuditEvent, Trial, TrialAdoptionHealth, UsageChangedOrg
from server.domain.core import audit
from server.domain.core.actor import SYSTEM
from server.domain.timeline import set_based
from server.domain.usage import adoption, trials

ACTION = "trial.adoption_changed"


@dataclass
class Evaluation:
    """What one day's evaluation did: how many trials it evaluated and the changes it recorded,
    (trial id, previous health, health)."""
    evaluated: int = 0
    changes: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, chunk: "Evaluation") -> None:
        """Count in what one chunk's transaction evaluated (`evaluate_trials`)."""
        self.evaluated += chunk.evaluated
        self.changes.extend(chunk.changes)


def _mark(db: AsyncSession, today: date, trial_ids):
    """Mark the trials `trial_ids` selects (a SELECT of trial ids) due today: their recorded row's
    check day set to today, a row made for a trial without one (no health recorded yet)."""
    h = TrialAdoptionHealth.__table__
    insert = pg_insert if set_based.on_postgres(db) else sqlite_insert
    stmt = insert(h).from_select(["trial_id", "health", "evaluated_on", "next_check_on"],
                                 select(trial_ids.c.id, null(), literal(today, Date), literal(today, Date))
                                 .where(true()))   # (SQLite: an upsert's SELECT needs a WHERE)
    return stmt.on_conflict_do_update(index_elements=["trial_id"], set_={"next_check_on": stmt.excluded.next_check_on})


async def mark(db: AsyncSession, today: date, last: date | None) -> None:
    """Mark due today the trials whose health may have changed since the evaluation of `last` (None:
    never run), set-based, in the caller's transaction (the day's claim): those of the orgs whose
    usage changed (the marks taken), those with an audit event since; the first evaluation ever, every
    ACTIVE and EXPIRED trial. Trials whose check day has come are due already."""
    t = Trial.__table__.c
    orgs = list(await db.scalars(delete(UsageChangedOrg).returning(UsageChangedOrg.org_id)))
    if last is None:
        await db.execute(_mark(db, today, select(t.id).where(t.state.in_(sorted(adoption.HEALTH_STATES))).subquery()))
        return
    for chunk in trials.chunks(orgs):
        await db.execute(_mark(db, today, select(t.id).where(set_based.among(db, t.customer_id, chunk)).subquery()))
    a = AuditEvent.__table__.c
    since = datetime(last.year, last.month, last.day, tzinfo=UTC)
    audited = select(a.subject_id).where(a.at >= since, a.subject_type == "Trial", a.subject_id.is_not(None),
                                         a.action != ACTION)
    await db.execute(_mark(db, today, select(t.id).where(t.id.in_(audited)).subquery()))


#: Trials evaluated per transaction by the worker.
CHUNK = 1000


async def due(db: AsyncSession, today: date, limit: int | None = None) -> list[int]:
    """Up to `limit` (CHUNK) trials due for evaluation (their check day has come), locked for this
    transaction (another worker's evaluation skips them)."""
    h = TrialAdoptionHealth.__table__.c
    query = select(h.trial_id).where(h.next_check_on <= today).order_by(h.trial_id).limit(limit or CHUNK)
    if set_based.on_postgres(db):
        query = query.with_for_update(skip_locked=True)
    return list(await db.scalars(query))


def _upsert(db: AsyncSession, rows: list[dict]):
    insert = pg_insert if set_based.on_postgres(db) else sqlite_insert
    stmt = insert(TrialAdoptionHealth.__table__).values(rows)
    return stmt.on_conflict_do_update(index_elements=["trial_id"], set_={
        "health": stmt.excluded.health, "evaluated_on": stmt.excluded.evaluated_on,
        "next_check_on": stmt.excluded.next_check_on})


def _event(trial: trials.TrialAdoption, previous: str, health: str) -> dict:
    s = trial.summary
    return audit.event(SYSTEM, ACTION, "Trial", trial.trial_id, customer_id=trial.customer_id,
                       partner_id=trial.partner_id, before={"health": previous},
                       after={"state": trial.state, "health": health, "active_users_30d": s.active_users_30d,
                              "activation": s.activation,
                              "last_active_on": s.last_active_on.isoformat() if s.last_active_on else None})


async def evaluate(db: AsyncSession, today: date, last: date | None) -> Evaluation:
    """`mark` and evaluate every due trial in the caller's one transaction (the worker does it in
    bounded transactions: server.domain.usage.daily)."""
    await mark(db, today, last)
    report = Evaluation()
    while trial_ids := await due(db, today):
        report.add(await evaluate_trials(db, today, trial_ids))
    return report


async def evaluate_trials(db: AsyncSession, today: date, trial_ids: list[int]) -> Evaluation:
    """Evaluate the trials `trial_ids` (due: `due`) at `today`, in the caller's transaction: record
    each one's health and next check day (a trial with no health, none recorded, keeps no row), audit
    the changes."""
    report = Evaluation()
    h = TrialAdoptionHealth.__table__.c
    read = await trials.read(db, trial_ids, today)
    recorded = dict((await db.execute(select(h.trial_id, h.health).where(
        set_based.among(db, h.trial_id, trial_ids)))).all())
    rows, events, gone = [], [], [trial_id for trial_id in trial_ids if trial_id not in read]
    for trial_id, trial in read.items():
        health = trial.summary.health.value if trial.summary.health else None
        if health is None and recorded.get(trial_id) is None:
            gone.append(trial_id)                         # no health, none recorded: nothing to keep
            continue
        rows.append({"trial_id": trial_id, "health": health, "evaluated_on": today,
                     "next_check_on": adoption.next_check(trial.state, trial.starts_at, trial.license_count,
                                                          trial.last_days, today)})
        previous = recorded.get(trial_id)
        if previous is not None and health is not None and previous != health:
            events.append(_event(trial, previous, health))
            report.changes.append((trial_id, previous, health))
    report.evaluated += len(read)
    if rows:
        await db.execute(_upsert(db, rows))
    if gone:
        await db.execute(delete(TrialAdoptionHealth).where(set_based.among(db, h.trial_id, gone)))
    await audit.record_many(db, events)
    return report
