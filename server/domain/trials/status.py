"""Derived statuses: days left and the customer's subscription status (R-TIME-07, R-TIME-02).

Decision (SPEC is silent on the thresholds): `daysLeft` is the ceiling of (ends_at − now) in days,
never negative. A customer's subscription status comes from the trials the viewer sees, first
match wins:

1. an ACTIVE trial with ≤ 30 days left → TRIAL_EXPIRING_30; ≤ 60 → TRIAL_EXPIRING_60; else TRIAL_ACTIVE
2. a trial PENDING_PROVISIONING → PENDING_PROVISIONING
3. a trial PENDING_CONSENT → PENDING_CONSENT
4. an EXPIRED trial (in grace) → TRIAL_EXPIRED
5. otherwise the stored status of the org: ACTIVE or SUSPENDED, or RELEASED once the org was released
   whole after grace (R-TIME-05, server/domain/trials/end_of_life.py). An org that keeps living (it pays for
   something) keeps its own status when its trial is released; the trial itself reads RELEASED.

`derive()` works on loaded rows (the API); `sql_filter()` is the same rule as SQL conditions for
the filter `customers(status:)`. ceil(x) ≤ n ⟺ x ≤ n, so "≤ 30 days left" is `ends_at ≤ now + 30 d`
in both.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select

from server import clock
from server.db.models import CustomerOrg, Trial
from server.enums import SubscriptionStatus as Sub
from server.enums import TrialState

EXPIRING_SOON = (30, 60)


def days_left(ends_at: datetime | None, now: datetime | None = None) -> int | None:
    if ends_at is None:
        return None
    seconds = (ends_at - (now or clock.now())).total_seconds()
    return max(0, math.ceil(seconds / 86400))


_EXPIRED = TrialState.EXPIRED.value


def service_expired(trial_state: str) -> bool:
    """R-TIME-02: once the trial ended (EXPIRED, in grace) its licenses show an Expired tag."""
    return trial_state == _EXPIRED


def derive(stored: str, trials: Iterable[Trial], now: datetime | None = None) -> Sub:
    now = now or clock.now()
    states: dict[str, list[Trial]] = {}
    for trial in trials:
        states.setdefault(trial.state, []).append(trial)
    active = [t for t in states.get(TrialState.ACTIVE.value, []) if t.ends_at is not None]
    if active:
        soonest = min(days_left(t.ends_at, now) for t in active)
        if soonest <= EXPIRING_SOON[0]:
            return Sub.TRIAL_EXPIRING_30
        if soonest <= EXPIRING_SOON[1]:
            return Sub.TRIAL_EXPIRING_60
        return Sub.TRIAL_ACTIVE
    if TrialState.ACTIVE.value in states:
        return Sub.TRIAL_ACTIVE
    for state, status in ((TrialState.PENDING_PROVISIONING, Sub.PENDING_PROVISIONING),
                          (TrialState.PENDING_CONSENT, Sub.PENDING_CONSENT),
                          (TrialState.EXPIRED, Sub.TRIAL_EXPIRED)):
        if state.value in states:
            return status
    return Sub(stored)


def _trial_rules(ends_by: Callable[[int], Any]) -> list[tuple[Sub, Any]]:
    """Steps 1–4 above as (status, condition on a Trial), first match wins; `ends_by(days)`: the
    moment `days` from now (a value, or a named parameter bound per call)."""
    active = Trial.state == TrialState.ACTIVE.value
    return [
        (Sub.TRIAL_EXPIRING_30, and_(active, Trial.ends_at <= ends_by(EXPIRING_SOON[0]))),
        (Sub.TRIAL_EXPIRING_60, and_(active, Trial.ends_at <= ends_by(EXPIRING_SOON[1]))),
        (Sub.TRIAL_ACTIVE, active),
        (Sub.PENDING_PROVISIONING, Trial.state == TrialState.PENDING_PROVISIONING.value),
        (Sub.PENDING_CONSENT, Trial.state == TrialState.PENDING_CONSENT.value),
        (Sub.TRIAL_EXPIRED, Trial.state == TrialState.EXPIRED.value),
    ]


def _has(trial_filter, condition):
    return exists(select(Trial.id).where(Trial.customer_id == CustomerOrg.id, trial_filter, condition))


def sql_filter(trial_filter, value: str, ends_by: Callable[[int], Any]) -> list:
    """Conditions saying "the derived status is `value`", to AND into a WHERE clause over CustomerOrg
    (`trial_filter` limits the trials to those the viewer sees): the EXISTS of the matching rule and
    NOT EXISTS for every rule before it. At the top of a WHERE clause PostgreSQL plans these as semi-
    and anti-joins; the earlier form, `CASE … END = value`, was evaluated for every customer
    (bench.customers_page, status filter over 10k customers: p50 129 ms → see its docstring)."""
    rules = _trial_rules(ends_by)
    conditions = []
    for status, condition in rules:
        if status.value == value:
            return [*conditions, _has(trial_filter, condition)]
        if status in _WIDENS:  # its NOT EXISTS implies the previous rule's: one anti-join fewer
            conditions.pop()
        conditions.append(~_has(trial_filter, condition))
    return [*conditions, CustomerOrg.subscription_status == value]


#: The rules whose trials include the previous rule's (an active trial ending within 30 days ends
#: within 60; one ending within 60 is active): "none of these" says "none of the previous" too.
_WIDENS = frozenset({Sub.TRIAL_EXPIRING_60, Sub.TRIAL_ACTIVE})


__all__ = ["days_left", "derive", "service_expired", "sql_filter"]
