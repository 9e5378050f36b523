"""Time is data: every future event is a Deadline row written in the same transaction as the
change that causes it, moved or cancelled with the trial, and applied once by the sweep.

What happens when a deadline comes due lives with its concept (trials/end_of_life.py,
trials/provisioning.py, consent/timeout.py, calling/numbers.py, devices/returns.py); one explicit
list, server/domain/deadline_handlers.py, maps each kind to its handler and is checked when the
worker starts. The sweep in jobs/ claims due rows and calls them.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import exists, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import Deadline, PartnerSettings, Trial
from server.domain.timeline import set_based

WARNING_BEFORE_END = timedelta(days=7)     # R-TIME-01
GRACE = timedelta(days=30)                 # R-TIME-03/04/05
NUMBER_HOLD = timedelta(days=15)           # R-TIME-06
CONSENT_WINDOW = timedelta(days=30)        # R-EX-03/06
RETURN_WINDOW = timedelta(days=14)         # R-RMA-01


class DeadlineKind(StrEnum):
    PROVISION = "provision"                      # R-NEW-04 (subject Trial)
    CONSENT_TIMEOUT = "consent_timeout"          # R-EX-06 (subject ConsentRequest)
    TRIAL_WARNING = "trial_warning"              # R-TIME-01, 7 days before the end (subject Trial)
    TRIAL_WARNING_30 = "trial_warning_30"        # R-SET-01: the partner's other reminder days
    TRIAL_WARNING_14 = "trial_warning_14"
    TRIAL_WARNING_3 = "trial_warning_3"
    TRIAL_WARNING_1 = "trial_warning_1"
    TRIAL_EXPIRY = "trial_expiry"                # R-TIME-02
    USERS_ACCESS_ENDED = "users_access_ended"    # R-TIME-04
    GRACE_END = "grace_end"                      # R-TIME-05, R-TIME-06 calling stops
    NUMBER_RELEASE = "number_release"            # R-TIME-06 (+15 days)
    RETURN_DUE = "return_due"                    # R-RMA-01 (subject Shipment)
    RETURN_OVERDUE = "return_overdue"            # R-RMA-02


#: R-SET-01: a reminder (R-TIME-01's warning) goes out on each day before the end the partner
#: chose; one deadline kind per day, so the sweep batches each day's reminders as before and a
#: rule knows its day from its kind. 7 keeps R-TIME-01's kind (rows planned before R-SET-01).
REMINDER_KINDS: dict[int, DeadlineKind] = {30: DeadlineKind.TRIAL_WARNING_30, 14: DeadlineKind.TRIAL_WARNING_14,
                                           7: DeadlineKind.TRIAL_WARNING, 3: DeadlineKind.TRIAL_WARNING_3,
                                           1: DeadlineKind.TRIAL_WARNING_1}
DEFAULT_REMINDER_DAYS = (7,)

#: The deadlines that follow a trial's end date; re-planned whenever the end moves.
TRIAL_END_KINDS = (*REMINDER_KINDS.values(), DeadlineKind.TRIAL_EXPIRY, DeadlineKind.USERS_ACCESS_ENDED,
                   DeadlineKind.GRACE_END, DeadlineKind.NUMBER_RELEASE)

#: A handler gets a claimed deadline: anything with `id`, `kind`, `subject_type`, `subject_id`.
Handler = Callable[[AsyncSession, Deadline], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, Sequence[Deadline]], Awaitable[None]]


def schedule(db: AsyncSession, kind: DeadlineKind, subject_type: str, subject_id: int, due_at: datetime) -> Deadline:
    deadline = Deadline(kind=kind.value, subject_type=subject_type, subject_id=subject_id, due_at=due_at,
                        attempts=0, created_at=clock.now())
    db.add(deadline)
    return deadline


async def cancel(db: AsyncSession, subject_type: str, subject_id: int, kinds: Iterable[DeadlineKind] | None = None) -> None:
    """Cancel the subject's open deadlines (all, or of `kinds`)."""
    stmt = (update(Deadline)
            .where(Deadline.subject_type == subject_type, Deadline.subject_id == subject_id,
                   Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None))
            .values(cancelled_at=clock.now()))
    if kinds is not None:
        stmt = stmt.where(Deadline.kind.in_([k.value for k in kinds]))
    await db.execute(stmt)


def reminders(ends_at: datetime, reminder_days: Iterable[int]) -> dict[DeadlineKind, datetime]:
    """R-SET-01: a reminder deadline on each chosen day before the end."""
    return {REMINDER_KINDS[days]: ends_at - timedelta(days=days) for days in sorted(set(reminder_days), reverse=True)}


def reminder_candidates(ends_at: datetime, now: datetime) -> list[tuple[DeadlineKind, int, datetime]]:
    """Every possible reminder of an end date still to come: (kind, days, due); a start writes
    those of the partner's chosen days (server/domain/start_rows.py)."""
    return [(kind, days, ends_at - timedelta(days=days)) for days, kind in REMINDER_KINDS.items()
            if ends_at - timedelta(days=days) > now]


def trial_end_schedule(ends_at: datetime,
                       reminder_days: Iterable[int] = DEFAULT_REMINDER_DAYS) -> dict[DeadlineKind, datetime]:
    """When each end-related event of a trial falls, from its end date and the partner's reminder days."""
    grace_end = ends_at + GRACE
    return {
        **reminders(ends_at, reminder_days),
        DeadlineKind.TRIAL_EXPIRY: ends_at,
        DeadlineKind.USERS_ACCESS_ENDED: grace_end,
        DeadlineKind.GRACE_END: grace_end,
    }


def end_deadlines(ends_at: datetime, now: datetime,
                  reminder_days: Iterable[int] = DEFAULT_REMINDER_DAYS) -> list[tuple[DeadlineKind, datetime]]:
    """The end-related deadlines to plan for an end date: events already in the past for it are not
    planned (they happened), except the expiry and the grace end."""
    return [(kind, due) for kind, due in trial_end_schedule(ends_at, reminder_days).items()
            if due > now or kind in (DeadlineKind.TRIAL_EXPIRY, DeadlineKind.GRACE_END)]


async def reminder_days_of(db: AsyncSession, partner_id: int) -> tuple[int, ...]:
    """R-SET-01: the partner's reminder days (the default when it never chose)."""
    days = await db.scalar(select(PartnerSettings.reminder_days).where(PartnerSettings.partner_id == partner_id))
    return tuple(days) if days else DEFAULT_REMINDER_DAYS


async def plan_trial(db: AsyncSession, trial) -> None:
    """(Re)plan a trial's end-related deadlines from its current `ends_at` (start, extend, reactivate)."""
    await cancel(db, "Trial", trial.id, TRIAL_END_KINDS)
    for kind, due in end_deadlines(trial.ends_at, clock.now(), await reminder_days_of(db, trial.partner_id)):
        schedule(db, kind, "Trial", trial.id, due)


async def replan_reminders(db: AsyncSession, partner_id: int, reminder_days: Iterable[int]) -> int:
    """R-SET-01: the partner chose other reminder days: every live trial's pending reminders are
    cancelled and planned again for the new days, in the caller's transaction. A live trial is one
    whose expiry is still to come (its end-related deadlines are planned); a day already past for
    a trial is not planned (as `end_deadlines`). Returns how many trials were re-planned.
    Cost: O(the partner's live trials), three statements; the sweep stays O(due).

    Every live trial, including one being started or extended while the days change: on PostgreSQL
    the transaction first takes the trials table in SHARE mode, which waits for the transactions
    writing a trial now (so the live trials read below include theirs, whatever days they planned)
    and holds the next ones back until this one commits (a statement reads after the locks it
    waits for: a start's one statement then reads the new days). Trial writes pause for the rest
    of this short transaction; the days change rarely. SQLite runs one writer at a time."""
    if set_based.on_postgres(db):
        await db.execute(text("LOCK TABLE trials IN SHARE MODE"))
    t, d = Trial.__table__, Deadline.__table__
    live = list(await db.execute(
        select(t.c.id, t.c.ends_at).where(t.c.partner_id == partner_id, t.c.ends_at.is_not(None), exists().where(
            d.c.subject_type == "Trial", d.c.subject_id == t.c.id, d.c.kind == DeadlineKind.TRIAL_EXPIRY.value,
            d.c.done_at.is_(None), d.c.cancelled_at.is_(None)))))
    if not live:
        return 0
    now = clock.now()
    await db.execute(update(d).where(
        d.c.subject_type == "Trial", set_based.among(db, d.c.subject_id, [trial_id for trial_id, _ in live]),
        d.c.kind.in_([kind.value for kind in REMINDER_KINDS.values()]),
        d.c.done_at.is_(None), d.c.cancelled_at.is_(None)).values(cancelled_at=now))
    rows = [dict(kind=kind.value, subject_type="Trial", subject_id=trial_id, due_at=due, done_at=None,
                 cancelled_at=None, attempts=0, next_attempt_at=None, last_error=None, created_at=now)
            for trial_id, ends_at in live for kind, due in reminders(ends_at, reminder_days).items() if due > now]
    await set_based.insert_rows(db, d, rows)
    return len(live)


async def schedule_many(db: AsyncSession, subject_type: str, subject_id: int,
                        deadlines: Iterable[tuple[DeadlineKind, datetime]]) -> None:
    """A new subject's deadlines in one multi-row insert (nothing open to cancel yet)."""
    now = clock.now()
    rows = [dict(kind=kind.value, subject_type=subject_type, subject_id=subject_id, due_at=due, done_at=None,
                 cancelled_at=None, attempts=0, next_attempt_at=None, last_error=None, created_at=now)
            for kind, due in deadlines]
    if rows:
        await db.execute(insert(Deadline.__table__), rows)
