"""TrialAdoption, ServiceAdoption, UsageDay (API.graphql, SPEC §10 R-USE-03/04). The figures and the
health are decided by server.domain.usage.adoption; here they are only translated. Declared for the
read planner below: a list of customers with their trials' `adoption { health activeUsers30d
activation lastActiveOn }` stays one statement (`services` and `daily` take the reference path)."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import strawberry
from strawberry.types import Info

from server import clock, loaders
from server.domain.usage import adoption
from server.domain.usage import sql as usage_sql
from server.domain.usage.sql import DAY_ZERO
from server.enums import AdoptionHealth as AdoptionHealthValue
from server.planner import declare as plan
from server.schema.enums import ServiceType

AdoptionHealth = strawberry.enum(AdoptionHealthValue, description="R-USE-04.")


@strawberry.type(description="One service of a trial: R-USE-03's figures over the last 7 and 30 days.")
class ServiceAdoption:
    type: ServiceType
    active_users_7d: int
    active_users_30d: int
    events_30d: int
    minutes_30d: int
    assigned_licenses: int | None = strawberry.field(description="The latest the platform reported since the start.")


@strawberry.type(description="One day of one service: active users, events, minutes.")
class UsageDay:
    day: date
    service: ServiceType
    active_users: int
    events: int
    minutes: int


@strawberry.type(description="SPEC §10: a trial's usage at the clock's today (its services, from its start).")
class TrialAdoption:
    health: AdoptionHealth | None = strawberry.field(description="R-USE-04; null outside ACTIVE and EXPIRED.")
    active_users_7d: int
    active_users_30d: int
    activation: float = strawberry.field(description="activeUsers30d / the trial's license count, 0..1 and beyond")
    last_active_on: date | None
    _trial: strawberry.Private[Any]

    @strawberry.field
    async def services(self, info: Info) -> list[ServiceAdoption]:
        trial = self._trial
        names = await _service_names(info, trial.id)
        async with loaders.read(info.context) as db:
            figures = await adoption.services(db, trial.customer_id, trial.starts_at, names, clock.today())
        return [ServiceAdoption(type=ServiceType(f.service), active_users_7d=f.active_users_7d,
                                active_users_30d=f.active_users_30d, events_30d=f.events_30d,
                                minutes_30d=f.minutes_30d, assigned_licenses=f.assigned_licenses) for f in figures]

    @strawberry.field(description="Oldest first, one entry per day and trial service from max(start, today - days "
                                  "+ 1) to today, zeros included (days: 1 to 400).")
    async def daily(self, info: Info, days: int | None = 30) -> list[UsageDay]:
        trial = self._trial
        names = await _service_names(info, trial.id)
        async with loaders.read(info.context) as db:
            series = await adoption.daily(db, trial.customer_id, trial.starts_at, names, clock.today(),
                                        adoption.WINDOW_30 if days is None else days)
        return [UsageDay(day=d.day, service=ServiceType(d.service), active_users=d.active_users, events=d.events,
                         minutes=d.minutes) for d in series]

    @classmethod
    def of(cls, trial: Any, summary: adoption.Summary) -> "TrialAdoption":
        return cls(health=summary.health, active_users_7d=summary.active_users_7d,
                   active_users_30d=summary.active_users_30d, activation=summary.activation,
                   last_active_on=summary.last_active_on, _trial=trial)

    @classmethod
    async def load(cls, info: Info, trial: Any) -> "TrialAdoption":
        """`trial`: a trial row the viewer reaches (R-USE-09: its usage is theirs to read)."""
        rows = await loaders.load(info, "last_active_by_trial", loaders.last_active_by_trial, trial.id)
        return cls.of(trial, adoption.summary(trial.state, trial.starts_at, trial.license_count,
                                              [r.last_active_on for r in rows], clock.today()))


async def _service_names(info: Info, trial_id: int) -> list[str]:
    return [r.service for r in await loaders.load(info, "services_by_trial", loaders.services_by_trial, trial_id)]


@lru_cache(maxsize=1 << 12)
def _days(values: tuple) -> tuple[date, ...]:
    """`usage.sql.merged_days` (days after DAY_ZERO) as dates."""
    return tuple(DAY_ZERO + timedelta(days=v) for v in values)


def _summary(env: Any, state: str, starts_at: Any, licenses: int, rows: list | None) -> adoption.Summary:
    """`rows`: `usage.sql.last_days` of the trial (its services' {user: day number} objects). Once per
    trial shaped, for all its adoption fields (`plan.Derived(over=)`)."""
    return _summary_of(state, starts_at, licenses, usage_sql.merged_days(rows), env.now.date())


@lru_cache(maxsize=1 << 12)
def _summary_of(state: str, starts_at: Any, licenses: int, last_days: tuple, today: Any) -> adoption.Summary:
    """A trial's summary computed once for its inputs and the day, not once per field asked (a list
    page asks five fields of each of 50 trials: it was the planner's largest shaping cost for
    bench.postgraphile's (a))."""
    return adoption.summary(state, starts_at, licenses, _days(last_days), today)


def _field(name: str):
    value = (lambda s: s.health.value if s.health else None) if name == "health" else \
        (lambda s: s.last_active_on.isoformat() if s.last_active_on else None) if name == "last_active_on" else \
        (lambda s: getattr(s, name))
    return plan.Derived(value, "state", plan.TimeInput("starts_at"), "license_count", _LAST_DAYS, over=_summary)


#: One input for every adoption field: the planner selects it once per trial (Compiler.shared).
_LAST_DAYS = plan.Input(lambda trial, parent, actor: usage_sql.last_days(trial))


# What the planner reads (server.planner.declare): the trial's own row (Trial.adoption is embedded in it)
# and `usage.sql.last_days` of it.
plan.plannable("TrialAdoption", None, health=_field("health"),
               activeUsers7d=_field("active_users_7d"), activeUsers30d=_field("active_users_30d"),
               activation=_field("activation"), lastActiveOn=_field("last_active_on"))
plan.unplanned("TrialAdoption.services", "R-USE-03: per-service figures over the rollups, Python rules "
                                         "(adoption.services); not declared yet")
plan.unplanned("TrialAdoption.daily", "R-USE-03: the daily series with its zero days (adoption.daily), an "
                                      "argument (days); not declared yet")
