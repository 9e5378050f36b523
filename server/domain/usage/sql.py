"""Usage read in SQL for whole lists (R-USE-03..05): the SQL twins of server.domain.usage.adoption.

- `last_active_by_trial`: each trial's users with their last active day over the trial's services
  (the reference path's DataLoader; `adoption.summary` decides from it);
- `last_days`: the same per trial as an expression of the trial's row (its services' last-active
  objects {user: day after DAY_ZERO}, merged per user in Python by `merged_days`), which the read
  planner selects in the trial's row (server/schema/types/usage.py), once however many adoption
  fields the query selects;
- `health_rank`: R-USE-04 as a SQL expression over a trial at a given today (the customers list's
  `adoption:` filter and ADOPTION order), the twin of `adoption.health`.

The rollup they read, `usage_last_active`, is one row per (org, service) holding a JSON object of its
users' last active days (server.domain.usage.storage, migration 0020); `each_user` is its (key,
value) rows on either backend, `day_of_number`/`number_of_day` its day numbers.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from typing import Any, NamedTuple

from sqlalchemy import Date, Integer, and_, bindparam, case, cast, func, or_, select, true

from server.db.base import per_dialect
from server.db.models import Trial, TrialService, UsageLastActive
from server.domain.usage import adoption
from server.domain.usage.storage import DAY_ZERO, day_number
from server.enums import AdoptionHealth

__all__ = ["DAY_ZERO", "last_active_by_trial", "last_days", "merged_days", "health_rank"]


each_user = per_dialect(
    "each_user", """The (key, value) rows of a usage_last_active.days object, the value as text or number:
    `jsonb_each_text` (PostgreSQL), `json_each` (SQLite). Use `.table_valued("key", "value")`.""",
    None, "json_each({0})", postgresql="jsonb_each_text({0})")
day_of_number = per_dialect(
    "day_of_number", "The date `n` days after DAY_ZERO, on both backends.", Date(),
    f"date('{DAY_ZERO}', '+' || ({{0}}) || ' days')", postgresql=f"(DATE '{DAY_ZERO}' + ({{0}}))")
number_of_day = per_dialect(
    "number_of_day", "A date as days after DAY_ZERO, on both backends.", Integer(),
    f"CAST(julianday({{0}}) - julianday('{DAY_ZERO}') AS INTEGER)", postgresql=f"({{0}} - DATE '{DAY_ZERO}')")


def _per_user(trial_ids=None):
    """(trial_id, user_key, last active day) over the trial's current services."""
    users = each_user(UsageLastActive.days).table_valued("key", "value").alias("users")
    stmt = (select(Trial.id.label("trial_id"), users.c.key.label("user_key"),
                   day_of_number(func.max(cast(users.c.value, Integer))).label("last_active_on"))
            .join(TrialService, and_(TrialService.trial_id == Trial.id, TrialService.removed_at.is_(None)))
            .join(UsageLastActive, and_(UsageLastActive.org_id == Trial.customer_id,
                                        UsageLastActive.service == TrialService.service))
            .join(users, true())
            .group_by(Trial.id, users.c.key))
    return stmt if trial_ids is None else stmt.where(trial_ids)


def last_active_by_trial(ids_condition):
    """The reference path's statement for the trials `ids_condition` selects (loaders.ids_in)."""
    return _per_user(ids_condition(Trial.id))


def last_days(trial):
    """A trial's last-active rows of its current services, as an expression of the trial's row
    (`trial`: the Trial table or an alias; PostgreSQL): a JSON array of their `days` objects ({user:
    day number}, null when none), merged per user by `merged_days` in Python. The read planner selects
    it in the trial's own row (server/schema/types/usage.py): no join, no second read of the trial.
    One row per service, read by its key: 50 trials ~7 µs each in PostgreSQL, where grouping a
    per-user table's rows by user took ~37 µs (migration 0020); the merge in SQL (unnest, group by
    user) ~19 µs."""
    services = (select(TrialService.service)
                .where(TrialService.trial_id == trial.c.id, TrialService.removed_at.is_(None)).correlate(trial))
    return (select(func.json_agg(UsageLastActive.days))
            .where(UsageLastActive.org_id == trial.c.customer_id, UsageLastActive.service.in_(services))
            .correlate(trial).scalar_subquery())


def merged_days(rows: Sequence[dict] | None) -> tuple[int, ...]:
    """`last_days`' objects merged: each user's last active day (a day number) over the services."""
    if not rows:
        return ()
    if len(rows) == 1:
        return tuple(rows[0].values())
    merged: dict[str, int] = {}
    for row in rows:
        merged.update(row)
    if len(merged) == sum(map(len, rows)):          # no user on two of the services (C loops only)
        return tuple(merged.values())
    best: dict[str, int] = {}
    for row in rows:
        for user, day in row.items():
            if best.get(user, -1) < day:
                best[user] = day
    return tuple(best.values())


utc_date = per_dialect(
    "utc_date", "The UTC date of a timestamp column, on both backends (SQLite stores UTC without a zone).",
    Date(), "CAST(timezone('UTC', {0}) AS DATE)", sqlite="date({0})")


class HealthDays(NamedTuple):
    """The days R-USE-04 compares with, from the clock's today, as day numbers (DAY_ZERO; values, or
    bound parameters)."""
    today: Any
    active_since_7: Any       # the first day of the 7-day window
    not_started_since: Any    # a start on or after it may still be NOT_STARTED
    active_since_30: Any      # the first day of the 30-day window


def health_days(today: date) -> HealthDays:
    return HealthDays(*(day_number(d) for d in (
        today, today - timedelta(days=adoption.WINDOW_7 - 1), today - timedelta(days=7),
        today - timedelta(days=adoption.WINDOW_30 - 1))))


def bound_days(prefix: str = "") -> HealthDays:
    """HealthDays as bound parameters (`prefix`: their names' prefix), for statements built once;
    their values: `day_values`."""
    return HealthDays(*(bindparam(f"{prefix}usage_{name}", type_=Integer) for name in HealthDays._fields))


def day_values(today: date, prefix: str = "") -> dict[str, int]:
    return {f"{prefix}usage_{name}": value for name, value in health_days(today)._asdict().items()}


def health_rank(trial, days: HealthDays):
    """R-USE-04 as SQL over a trial row (`trial`: the Trial table or an alias) at `days`
    (`health_days(today)` or BOUND_DAYS): the rank of its health in `adoption.HEALTH_RANK`
    (INACTIVE 0 … HEALTHY 3), NULL when it has none. Over the users of the trial's org's last-active
    rows of its services, each row's day (a user's day per service) in [start, today].

    One aggregate over the trial's users decides the rank (an aggregate without GROUP BY answers one
    row even over no user: max NULL, count 0): the last active day and the 30-day active users read
    the rows once. (Written as two scalar subqueries, PostgreSQL ran the last day's up to three times
    for the CASE's three tests: the ADOPTION order over 1 000 trials at 10k customers took ~100 ms.)"""
    started = number_of_day(utc_date(trial.starts_at))
    services = select(TrialService.service).where(TrialService.trial_id == trial.id, TrialService.removed_at.is_(None))
    users = each_user(UsageLastActive.days).table_valued("key", "value").alias("users")
    day = cast(users.c.value, Integer)
    last = func.max(day)
    w30 = case((started > days.active_since_30, started), else_=days.active_since_30)
    active_30 = func.count(func.distinct(case((day >= w30, users.c.key))))
    rank = adoption.HEALTH_RANK
    decided = (select(case(
        (and_(last.is_(None), started >= days.not_started_since), rank[AdoptionHealth.NOT_STARTED]),
        (or_(last.is_(None), last < days.active_since_7), rank[AdoptionHealth.INACTIVE]),
        (active_30 < adoption.LOW_ACTIVATION * trial.license_count, rank[AdoptionHealth.LOW]),
        else_=rank[AdoptionHealth.HEALTHY]))
        .select_from(UsageLastActive.__table__.join(users, true()))
        .where(UsageLastActive.org_id == trial.customer_id, UsageLastActive.service.in_(services),
               day >= started, day <= days.today)
        .scalar_subquery())
    return case((or_(~trial.state.in_(sorted(adoption.HEALTH_STATES)), trial.starts_at.is_(None)), None),
                else_=decided)
