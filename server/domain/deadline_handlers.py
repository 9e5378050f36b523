"""Every deadline kind and the function that applies it when it comes due: one explicit list,
checked when a process that sweeps starts (a kind without a handler stops it, naming the kind), never
filled by an import's side effect. Each concept keeps its handlers beside its rules; this module only
names them.

A handler takes the session and a claimed deadline; a batch handler takes many deadlines of its kind
with distinct subjects and applies them set-based (the trial end rules), and a single deadline of
that kind is a batch of one.
"""
from __future__ import annotations

from collections.abc import Mapping

from server.domain.calling import numbers
from server.domain.consent import timeout
from server.domain.devices import returns
from server.domain.timeline.deadlines import REMINDER_KINDS, BatchHandler, DeadlineKind, Handler
from server.domain.trials import end_of_life, provisioning

#: Kinds applied one deadline at a time, each in its own savepoint.
ONE_BY_ONE: dict[str, Handler] = {
    DeadlineKind.PROVISION: provisioning.on_provision,            # R-NEW-04
    DeadlineKind.CONSENT_TIMEOUT: timeout.on_consent_timeout,     # R-EX-06
    DeadlineKind.GRACE_END: end_of_life.on_grace_end,             # R-TIME-05, R-TIME-06
    DeadlineKind.NUMBER_RELEASE: numbers.on_number_release,       # R-TIME-06
    DeadlineKind.RETURN_DUE: returns.on_return_due,               # R-RMA-01
    DeadlineKind.RETURN_OVERDUE: returns.on_return_overdue,       # R-RMA-02
}

#: Kinds a sweep applies a batch at a time (set-based).
BATCHED: dict[str, BatchHandler] = {
    **{kind: end_of_life.REMINDER_RULES[days] for days, kind in REMINDER_KINDS.items()},  # R-TIME-01, R-SET-01
    DeadlineKind.TRIAL_EXPIRY: end_of_life.on_trial_expiry,                               # R-TIME-02
    DeadlineKind.USERS_ACCESS_ENDED: end_of_life.on_users_access_ended,                   # R-TIME-04
}


def one_of(batch: BatchHandler) -> Handler:
    async def one(db, deadline) -> None:
        await batch(db, [deadline])
    return one


def check(one_by_one: Mapping[str, Handler] = ONE_BY_ONE, batched: Mapping[str, BatchHandler] = BATCHED) -> None:
    """Every DeadlineKind has exactly one handler; otherwise a RuntimeError names the kinds."""
    missing = [kind.value for kind in DeadlineKind if kind not in one_by_one and kind not in batched]
    twice = sorted(set(one_by_one) & set(batched))
    if missing or twice:
        raise RuntimeError(f"deadline kinds without a handler: {missing}; with two: {twice} "
                           "(server/domain/deadline_handlers.py)")


check()

#: What applies one deadline of each kind (a batched kind's handler with a batch of one).
HANDLERS: dict[str, Handler] = {**ONE_BY_ONE, **{kind: one_of(batch) for kind, batch in BATCHED.items()}}
