"""A trial's adoption (R-USE-03) and health (R-USE-04), at the clock's today.

Everything counts only the trial's services and days from the trial's start (its UTC date):
- active users over 7 and 30 days: distinct users with events or minutes above 0 on a day of the
  window [max(start, today - N + 1), today]. They are read from the last-active rollup: a user
  active in the window is one whose last active day (over the trial's services) falls in it, as no
  day after today is ever stored (R-USE-02);
- activation = active users over 30 days ÷ the trial's license count;
- the last day with activity (from the start on);
- per service: active users 7d/30d, events and minutes over the 30-day window (daily totals),
  the latest assigned licenses reported since the start (null when none);
- the daily series per day and service from max(start, today - days + 1) to today, zeros included
  (`days` clamped to 1..400: the history kept, R-USE-08).

`summary` is the one function deciding the list figures and health, on both read paths: the
reference (DataLoader over `sql.last_active_by_trial`) and the planner (`sql.last_days`, merged
by `sql.merged_days`), each handing it the trial's users' last active days.

Decisions where the SPEC is silent:
- A trial that has not started (no start date) has zero figures and no health.
- "No usage in the last 7 days" is a last active day before today - 6; "started at most 7 days
  ago" is a start date on or after today - 7.
- Released trials: the per-user rows are gone (R-USE-08), so active users read 0 while the daily
  series (daily totals) stays; health is null anyway outside ACTIVE and EXPIRED.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.usage import storage
from server.enums import AdoptionHealth, TrialState

#: R-USE-04: activation under this is LOW.
LOW_ACTIVATION = 0.2
WINDOW_7, WINDOW_30 = 7, 30
MAX_SERIES_DAYS = 400
HEALTH_STATES = frozenset({TrialState.ACTIVE.value, TrialState.EXPIRED.value})
#: Least healthy first (the customers list's ADOPTION order): no health comes last.
HEALTH_RANK = {AdoptionHealth.INACTIVE: 0, AdoptionHealth.LOW: 1, AdoptionHealth.NOT_STARTED: 2,
               AdoptionHealth.HEALTHY: 3}


@dataclass(frozen=True)
class Summary:
    health: AdoptionHealth | None
    active_users_7d: int
    active_users_30d: int
    activation: float
    last_active_on: date | None


@dataclass(frozen=True)
class ServiceFigures:
    service: str
    active_users_7d: int
    active_users_30d: int
    events_30d: int
    minutes_30d: int
    assigned_licenses: int | None


@dataclass(frozen=True)
class UsageDay:
    day: date
    service: str
    active_users: int
    events: int
    minutes: int


def start_day(starts_at: datetime | None) -> date | None:
    return starts_at.date() if starts_at is not None else None


def window(started_on: date, today: date, days: int) -> date:
    """The first day of a window of `days` days ending today, not before the trial's start."""
    return max(started_on, today - timedelta(days=days - 1))


def health(state: str, started_on: date | None, today: date, last_active_on: date | None,
           activation: float) -> AdoptionHealth | None:
    """R-USE-04."""
    if state not in HEALTH_STATES or started_on is None:
        return None
    if last_active_on is None and started_on >= today - timedelta(days=7):
        return AdoptionHealth.NOT_STARTED
    if last_active_on is None or last_active_on < today - timedelta(days=WINDOW_7 - 1):
        return AdoptionHealth.INACTIVE
    if activation < LOW_ACTIVATION:
        return AdoptionHealth.LOW
    return AdoptionHealth.HEALTHY


def summary(state: str, starts_at: datetime | None, license_count: int, last_days: Iterable[date],
            today: date) -> Summary:
    """R-USE-03/04 from the last active day of each of the trial's users (over its services)."""
    started_on = start_day(starts_at)
    if started_on is None:
        return Summary(None, 0, 0, 0.0, None)
    days = [d for d in last_days if started_on <= d <= today]
    w7, w30 = window(started_on, today, WINDOW_7), window(started_on, today, WINDOW_30)
    active_7 = sum(1 for d in days if d >= w7)
    active_30 = sum(1 for d in days if d >= w30)
    activation = active_30 / license_count if license_count > 0 else 0.0
    last = max(days, default=None)
    return Summary(health(state, started_on, today, last, activation), active_7, active_30, activation, last)


def next_check(state: str, starts_at: datetime | None, license_count: int, last_days: Iterable[date],
               today: date) -> date | None:
    """The first day after today on which R-USE-04's health may differ with no new usage and no change
    to the trial (the daily evaluation looks at the trial again that day, R-USE-07); None when only
    those can change it. NOT_STARTED turns INACTIVE on the 8th day after the start; HEALTHY and LOW
    turn INACTIVE 7 days after the last active day; HEALTHY turns LOW on the day enough of its active
    users have left the 30-day window (each leaves 30 days after their last active day)."""
    started_on = start_day(starts_at)
    now = summary(state, starts_at, license_count, last_days, today)
    if now.health is None or now.health is AdoptionHealth.INACTIVE:
        return None
    if now.health is AdoptionHealth.NOT_STARTED:
        return started_on + timedelta(days=8)
    inactive_on = now.last_active_on + timedelta(days=WINDOW_7)
    if now.health is AdoptionHealth.LOW:
        return inactive_on
    w30 = window(started_on, today, WINDOW_30)
    leaving = sorted(d for d in last_days if w30 <= d <= today)
    for gone, day in enumerate(leaving, start=1):          # the users who leave first, one by one
        if (now.active_users_30d - gone) / license_count < LOW_ACTIVATION:
            return min(inactive_on, day + timedelta(days=WINDOW_30))
    return inactive_on


def _day(value) -> date:
    """A stored day as read: a date (PostgreSQL), ISO text (SQLite, JSON) or a day number (DAY_ZERO)."""
    if isinstance(value, date):
        return value
    return storage.number_day(value) if isinstance(value, int) else date.fromisoformat(value)


def series_days(days: int | None) -> int:
    """The daily series' `days` argument as the rule takes it: 30 when not given, clamped to 1..400."""
    return max(1, min(WINDOW_30 if days is None else days, MAX_SERIES_DAYS))


_LAST_ACTIVE = text("SELECT service, days FROM usage_last_active WHERE org_id = :org")
_TOTALS = text("SELECT day, service, active_users, events, minutes FROM usage_daily_totals "
               "WHERE org_id = :org AND day >= :since AND day <= :today")
_ASSIGNED = text("SELECT a.day, a.service, a.assigned FROM usage_assigned_licenses a WHERE a.org_id = :org "
                 "AND a.day = (SELECT max(b.day) FROM usage_assigned_licenses b WHERE b.org_id = a.org_id "
                 "AND b.service = a.service AND b.day >= :since AND b.day <= :today)")


def service_figures(starts_at: datetime | None, trial_services: Sequence[str], last_active: Iterable[Sequence],
                    totals: Iterable[Sequence], assigned: Iterable[Sequence], today: date) -> list[ServiceFigures]:
    """Per service of the trial (in the trial's order): R-USE-03's figures, from the org's rows as read
    (any service, any day: only the trial's services and the windows count here). `last_active`:
    (service, {user: day number}) rows of usage_last_active; `totals`: (day, service, active users,
    events, minutes) of usage_daily_totals; `assigned`: (day, service, assigned) of
    usage_assigned_licenses. The reference path (`services`) and the read planner
    (server/schema/types/usage.py) both hand their reads to this function."""
    started_on = start_day(starts_at)
    if started_on is None:
        return [ServiceFigures(s, 0, 0, 0, 0, None) for s in trial_services]
    w7, w30 = window(started_on, today, WINDOW_7), window(started_on, today, WINDOW_30)
    active = {s: [0, 0] for s in trial_services}
    n7, n30, n_today = storage.day_number(w7), storage.day_number(w30), storage.day_number(today)
    for service, days in last_active:
        if service in active:
            for last in storage.as_object(days).values():
                if n30 <= last <= n_today:
                    active[service][1] += 1
                    active[service][0] += last >= n7
    sums = {s: [0, 0] for s in trial_services}
    for day, service, _, events, minutes in totals:
        if service in sums and w30 <= _day(day) <= today:
            sums[service][0] += events
            sums[service][1] += minutes
    latest: dict[str, tuple[date, int]] = {}
    for day, service, count in assigned:
        day = _day(day)
        if started_on <= day <= today and (service not in latest or latest[service][0] < day):
            latest[service] = (day, count)
    return [ServiceFigures(s, active[s][0], active[s][1], sums[s][0], sums[s][1],
                           latest[s][1] if s in latest else None) for s in trial_services]


async def services(db: AsyncSession, org_id: int, starts_at: datetime | None, trial_services: Sequence[str],
                   today: date) -> list[ServiceFigures]:
    """Per service of the trial (in the trial's order): R-USE-03's figures (`service_figures`)."""
    started_on = start_day(starts_at)
    if started_on is None:
        return service_figures(starts_at, trial_services, (), (), (), today)
    w30 = window(started_on, today, WINDOW_30)
    last_active = (await db.execute(_LAST_ACTIVE, {"org": org_id})).all()
    totals = (await db.execute(_TOTALS, {"org": org_id, "since": w30, "today": today})).all()
    assigned = (await db.execute(_ASSIGNED, {"org": org_id, "since": started_on, "today": today})).all()
    return service_figures(starts_at, trial_services, last_active, totals, assigned, today)


def series_start(starts_at: datetime | None, today: date, days: int | None) -> date | None:
    """The first day of the daily series (None: no series, the trial has not started by today)."""
    started_on = start_day(starts_at)
    if started_on is None or started_on > today:
        return None
    return window(started_on, today, series_days(days))


def daily_series(starts_at: datetime | None, trial_services: Sequence[str], totals: Iterable[Sequence],
                 today: date, days: int | None = WINDOW_30) -> list[UsageDay]:
    """The daily series, oldest first, one entry per day and trial service from `series_start`, zeros
    included, from the org's usage_daily_totals rows as read ((day, service, active users, events,
    minutes); other days and services are left out here). The reference path (`daily`) and the read
    planner both hand their reads to this function."""
    first = series_start(starts_at, today, days)
    if first is None:
        return []
    found = {(_day(d), s): (a, e, m) for d, s, a, e, m in totals}
    series, day = [], first
    while day <= today:
        for service in trial_services:
            series.append(UsageDay(day, service, *found.get((day, service), (0, 0, 0))))
        day += timedelta(days=1)
    return series


async def daily(db: AsyncSession, org_id: int, starts_at: datetime | None, trial_services: Sequence[str],
                today: date, days: int | None = WINDOW_30) -> list[UsageDay]:
    """The daily series (`daily_series`) over the days it shows."""
    first = series_start(starts_at, today, days)
    if first is None:
        return []
    totals = (await db.execute(_TOTALS, {"org": org_id, "since": first, "today": today})).all()
    return daily_series(starts_at, trial_services, totals, today, days)
