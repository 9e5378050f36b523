"""Trials by week (the chart): started, converted, expired and released per week, and the
conversion rate, for the trials the actor sees (the customers list's scope: R-ORG-02, R-ROLE-02).

Decisions (SPEC is silent):
- A week is an ISO week (Monday 00:00 to the next Monday 00:00) in UTC: the partner has no time
  zone of its own in Trialdesk and every deadline (R-TIME-*) fires on UTC instants, so the chart
  counts the same instants the emails and the sweep do. The last week is the current, partial one.
- started: `starts_at` in the week (an existing customer's trial starts at consent, R-EX-05).
  converted: `converted_at` in the week (R-CONV-01). released: `released_at` in the week (R-TIME-05).
  expired: the end day (`ends_at`, R-TIME-02) fell in the week, has passed, and the trial was not
  converted or cancelled before it. A trial extended in grace (R-EXT-01) moved its end date, so
  its earlier expiry is no longer counted: the chart counts trials whose current end has passed.
- Conversion rate of a week: converted ÷ (converted + released), the share of trials whose outcome
  was decided that week that became paid; None when nothing was decided. The 12 weeks' rate is the
  same ratio over their sums. Cancelled trials are in neither.
- One SQL statement: a `sum(CASE …)` per week and measure over the actor's trials that touch the
  window (bench.home: the statement count does not grow with the data). It is built once per actor
  and number of weeks, the boundaries bound at execution: building it cost more than running it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.base import UTCDateTime
from server.db.models import CustomerOrg, Trial
from server.domain.core import permissions
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.domain.core.permissions import Action
from server.enums import ErrorCode

MAX_WEEKS = 52
MEASURES = ("started", "converted", "expired", "released")


@dataclass(frozen=True)
class TrialWeek:
    start: date  # the Monday
    started: int
    converted: int
    expired: int
    released: int

    @property
    def iso_week(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02}"

    @property
    def conversion_rate(self) -> float | None:
        return conversion_rate(self.converted, self.released)


def conversion_rate(converted: int, released: int) -> float | None:
    decided = converted + released
    return round(converted / decided, 4) if decided else None


def week_starts(today: date, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` ISO weeks, oldest first, ending with this week's."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _instant(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _measures(now):
    """Each measure as (the trial's moment column, the extra condition for counting it); `now`: the
    moment's parameter."""
    ended_unanswered = and_(Trial.ends_at <= now,
                            or_(Trial.converted_at.is_(None), Trial.converted_at > Trial.ends_at),
                            or_(Trial.cancelled_at.is_(None), Trial.cancelled_at > Trial.ends_at))
    return {"started": (Trial.starts_at, None), "converted": (Trial.converted_at, None),
            "expired": (Trial.ends_at, ended_unanswered), "released": (Trial.released_at, None)}


def _bound(n: int, prefix: str = ""):
    return bindparam(f"{prefix}week_{n}", type_=UTCDateTime)


@lru_cache(maxsize=1024)
def statement(actor: Actor, weeks: int, prefix: str = ""):
    """One row: a count per measure and week (`<measure>_<n>`), the weeks' boundaries and now bound at
    execution (`parameters`: `week_0` … `week_<weeks>`, `now`, each after `prefix`). Built once per
    actor, number of weeks and prefix (the read planner's statement names its roots' parameters)."""
    measures = _measures(bindparam(f"{prefix}now", type_=UTCDateTime))
    columns = []
    for name, (moment, condition) in measures.items():
        for n in range(weeks):
            hit = and_(moment >= _bound(n, prefix), moment < _bound(n + 1, prefix),
                       *([condition] if condition is not None else []))
            columns.append(func.coalesce(func.sum(case((hit, 1), else_=0)), 0).label(f"{name}_{n}"))
    visible = exists(select(CustomerOrg.id).where(CustomerOrg.id == Trial.customer_id,
                                                  visibility.customer_condition(actor)))
    return select(*columns).where(visibility.trial_condition(actor), visible,
                                  or_(*(moment >= _bound(0, prefix) for moment, _ in measures.values())))


def check(actor: Actor, weeks: int) -> None:
    """What `trials_by_week` refuses before reading: FORBIDDEN, `weeks` out of range."""
    if permissions.scope(actor, Action.VIEW) is None:
        raise permissions.forbidden()
    if weeks < 1 or weeks > MAX_WEEKS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"`weeks` must be between 1 and {MAX_WEEKS}.", "weeks")


def parameters(now: datetime, weeks: int, prefix: str = "") -> dict[str, datetime]:
    """The values of `statement`'s parameters at the moment `now`."""
    starts = week_starts(now.date(), weeks)
    bounds = {f"{prefix}week_{n}": _instant(d) for n, d in enumerate([*starts, starts[-1] + timedelta(weeks=1)])}
    return {**bounds, f"{prefix}now": now}


def weeks_of(now: datetime, weeks: int, counts: Mapping[str, int]) -> list[TrialWeek]:
    """The weeks from `statement`'s row (`counts`: its columns by label)."""
    return [TrialWeek(start, *(int(counts[f"{name}_{n}"]) for name in MEASURES))
            for n, start in enumerate(week_starts(now.date(), weeks))]


async def trials_by_week(db: AsyncSession, actor: Actor, weeks: int = 12) -> list[TrialWeek]:
    """The last `weeks` ISO weeks (UTC), oldest first, each with its four counts."""
    check(actor, weeks)
    now = clock.now()
    row = (await db.execute(statement(actor, weeks), parameters(now, weeks))).one()
    return weeks_of(now, weeks, row._mapping)
