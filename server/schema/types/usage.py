"""TrialAdoption, ServiceAdoption, UsageDay (API.graphql, SPEC §10 R-USE-03/04). The figures and the
health are decided by server.domain.usage.adoption; here they are only translated. Declared for the
read planner below: a list of customers with their trials' `adoption { health activeUsers30d
activation lastActiveOn services daily }` stays one statement."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import strawberry
from strawberry.types import Info

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from server import clock, loaders
from server.db.models import TrialService, UsageAssignedLicenses, UsageDailyTotal, UsageLastActive
from server.domain.usage import adoption
from server.domain.usage import sql as usage_sql
from server.domain.usage.sql import DAY_ZERO
from server.enums import AdoptionHealth as AdoptionHealthValue
from server.planner import declare as plan
from server.planner.compile import EMPTY
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
            return _services(await adoption.services(db, trial.customer_id, trial.starts_at, names, clock.today()))

    @strawberry.field(description="Oldest first, one entry per day and trial service from max(start, today - days "
                                  "+ 1) to today, zeros included (days: 1 to 400).")
    async def daily(self, info: Info, days: int | None = 30) -> list[UsageDay]:
        trial = self._trial
        names = await _service_names(info, trial.id)
        async with loaders.read(info.context) as db:
            return _days_of(await adoption.daily(db, trial.customer_id, trial.starts_at, names, clock.today(), days))

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


def _services(figures: list[adoption.ServiceFigures]) -> list[ServiceAdoption]:
    return [ServiceAdoption(type=ServiceType(f.service), active_users_7d=f.active_users_7d,
                            active_users_30d=f.active_users_30d, events_30d=f.events_30d,
                            minutes_30d=f.minutes_30d, assigned_licenses=f.assigned_licenses) for f in figures]


def _days_of(series: list[adoption.UsageDay]) -> list[UsageDay]:
    return [UsageDay(day=d.day, service=ServiceType(d.service), active_users=d.active_users, events=d.events,
                     minutes=d.minutes) for d in series]


def _services_answer(figures: list[adoption.ServiceFigures]) -> list[dict]:
    """The planner's `services`: each ServiceAdoption as the executor answers it (GraphQL names, the
    service by name), picked to the selection by Compiler.picker without a Strawberry object per item."""
    return [{"type": f.service, "activeUsers7d": f.active_users_7d, "activeUsers30d": f.active_users_30d,
             "events30d": f.events_30d, "minutes30d": f.minutes_30d, "assignedLicenses": f.assigned_licenses}
            for f in figures]


def _days_answer(series: list[adoption.UsageDay]) -> list[dict]:
    """The planner's `daily`: each UsageDay as the executor answers it (the day as ISO text): a page of 5
    trials shapes ~450 of them, a Strawberry object and its leaves' serialization each cost ~2x this."""
    return [{"day": d.day.isoformat(), "service": d.service, "activeUsers": d.active_users, "events": d.events,
             "minutes": d.minutes} for d in series]


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


# TrialAdoption.services and .daily (R-USE-03): the rows `adoption.service_figures` and `adoption.daily_series`
# read, selected in the trial's own row (PostgreSQL: the planner only), narrowed to the days the rule looks at
# (the rule filters them again), each decided by the same function as the reference path's.
def _trial_services(trial, parent, actor):
    """The trial's current services, in the reference's order (loaders.services_by_trial: by id)."""
    return (select(func.coalesce(func.json_agg(aggregate_order_by(TrialService.service, TrialService.id)), EMPTY))
            .where(TrialService.trial_id == trial.c.id, TrialService.removed_at.is_(None))
            .correlate(trial).scalar_subquery())


def _of_services(trial):
    return (select(TrialService.service)
            .where(TrialService.trial_id == trial.c.id, TrialService.removed_at.is_(None)).correlate(trial))


def _rows(model, trial, columns, *where):
    """The org's rows of `model` of the trial's services as a JSON array of arrays ([] when none)."""
    return (select(func.coalesce(func.json_agg(func.json_build_array(*columns)), EMPTY))
            .where(model.org_id == trial.c.customer_id, model.service.in_(_of_services(trial)), *where)
            .correlate(trial).scalar_subquery())


def _totals_since(trial, days: int):
    """usage_daily_totals from max(start, today - days + 1) to today, as (day, service, active users,
    events, minutes)."""
    t = UsageDailyTotal
    first = func.greatest(usage_sql.utc_date(trial.c.starts_at), plan.TODAY - (days - 1))
    return _rows(t, trial, (t.day, t.service, t.active_users, t.events, t.minutes), t.day >= first, t.day <= plan.TODAY)


def _last_active(trial, parent, actor):
    return _rows(UsageLastActive, trial, (UsageLastActive.service, UsageLastActive.days))


def _assigned(trial, parent, actor):
    """Per service the latest usage_assigned_licenses row since the start (as the reference's statement)."""
    a, b = UsageAssignedLicenses, aliased(UsageAssignedLicenses)
    latest = (select(func.max(b.day)).where(b.org_id == a.org_id, b.service == a.service,
                                           b.day >= usage_sql.utc_date(trial.c.starts_at), b.day <= plan.TODAY)
              .correlate(a, trial).scalar_subquery())
    return _rows(a, trial, (a.day, a.service, a.assigned), a.day == latest)


_SERVICES = plan.Input(_trial_services)
_TOTALS_30 = plan.Input(lambda trial, parent, actor: _totals_since(trial, adoption.WINDOW_30))
_TOTALS_DAILY = plan.Input(lambda trial, parent, actor, args: _totals_since(trial, adoption.series_days(args.get("days"))),
                           arguments=True)

plan.plannable(
    "TrialAdoption",
    services=plan.Derived(lambda env, starts_at, names, last_active, totals, assigned: _services_answer(
        adoption.service_figures(starts_at, names, last_active, totals, assigned, env.now.date())),
        plan.TimeInput("starts_at"), _SERVICES, plan.Input(_last_active), _TOTALS_30, plan.Input(_assigned)),
    daily=plan.Derived(lambda env, starts_at, names, totals, days: _days_answer(
        adoption.daily_series(starts_at, names, totals, env.now.date(), days)),
        plan.TimeInput("starts_at"), _SERVICES, _TOTALS_DAILY, plan.Argument("days")))
plan.plannable("ServiceAdoption", **{name: plan.ByRoot() for name in (
    "type", "activeUsers7d", "activeUsers30d", "events30d", "minutes30d", "assignedLicenses")})
plan.plannable("UsageDay", **{name: plan.ByRoot() for name in ("day", "service", "activeUsers", "events", "minutes")})
