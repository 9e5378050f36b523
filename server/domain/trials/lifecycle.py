"""One explicit state machine for trials and consent requests.

Every move of a trial's state goes through `transition()`; a move not in the table is refused
with INVALID_STATE and changes nothing. The caller audits the move and writes the emails and
deadlines it causes in the same transaction.
"""
from __future__ import annotations

from enum import StrEnum

from server.domain.core.errors import DomainError
from server.enums import ConsentStatus, ErrorCode, TrialState

S = TrialState


class TrialEvent(StrEnum):
    CONSENT_ACCEPTED = "consent_accepted"        # R-EX-04/05
    CONSENT_DECLINED = "consent_declined"        # R-EX-04
    CONSENT_TIMED_OUT = "consent_timed_out"      # R-EX-06
    REQUEST_WITHDRAWN = "request_withdrawn"      # R-EX-05 cancel and delete
    PROVISIONED = "provisioned"                  # R-NEW-04
    EDITED = "edited"                            # R-EDIT-01
    EXTENDED = "extended"                        # R-EXT-01
    EXPIRED = "expired"                          # R-TIME-02
    CONVERTED = "converted"                      # R-CONV-01
    CANCELLED = "cancelled"                      # R-CANCEL-01
    RELEASED = "released"                        # R-TIME-05


#: (state, event) -> next state.
TRIAL_TRANSITIONS: dict[tuple[TrialState, TrialEvent], TrialState] = {
    (S.PENDING_CONSENT, TrialEvent.CONSENT_ACCEPTED): S.PENDING_PROVISIONING,
    (S.PENDING_CONSENT, TrialEvent.CONSENT_DECLINED): S.CANCELLED,
    (S.PENDING_CONSENT, TrialEvent.CONSENT_TIMED_OUT): S.CANCELLED,
    (S.PENDING_CONSENT, TrialEvent.REQUEST_WITHDRAWN): S.CANCELLED,
    (S.PENDING_PROVISIONING, TrialEvent.PROVISIONED): S.ACTIVE,
    (S.PENDING_PROVISIONING, TrialEvent.EDITED): S.PENDING_PROVISIONING,
    (S.PENDING_PROVISIONING, TrialEvent.CANCELLED): S.CANCELLED,
    (S.ACTIVE, TrialEvent.EDITED): S.ACTIVE,
    (S.ACTIVE, TrialEvent.EXTENDED): S.ACTIVE,
    (S.ACTIVE, TrialEvent.EXPIRED): S.EXPIRED,
    (S.ACTIVE, TrialEvent.CONVERTED): S.CONVERTED,
    (S.ACTIVE, TrialEvent.CANCELLED): S.CANCELLED,
    (S.EXPIRED, TrialEvent.EXTENDED): S.ACTIVE,       # R-EXT-01: extending in grace reactivates
    (S.EXPIRED, TrialEvent.CONVERTED): S.CONVERTED,   # R-TIME-03 / R-CONV-01
    (S.EXPIRED, TrialEvent.CANCELLED): S.CANCELLED,
    (S.EXPIRED, TrialEvent.RELEASED): S.RELEASED,     # R-TIME-05
}

#: States whose services still hold the customer's service slot (R-SVC-06).
HOLDING_STATES = {S.PENDING_CONSENT, S.PENDING_PROVISIONING, S.ACTIVE, S.EXPIRED}
#: States that are over for good.
FINAL_STATES = {S.CONVERTED, S.CANCELLED, S.RELEASED}


def next_state(state: TrialState | str, event: TrialEvent) -> TrialState:
    target = TRIAL_TRANSITIONS.get((TrialState(state), event))
    if target is None:
        raise DomainError(ErrorCode.INVALID_STATE,
                          f"A trial that is {TrialState(state).value.replace('_', ' ').lower()} cannot be {event.value.replace('_', ' ')}.")
    return target


def transition(trial, event: TrialEvent) -> tuple[str, str]:
    """Move `trial` (a Trial row) by `event`; returns (before, after) state names. Bumps the version."""
    before = trial.state
    trial.state = next_state(before, event).value
    trial.version = (trial.version or 0) + 1
    return before, trial.state


C = ConsentStatus

CONSENT_TRANSITIONS: dict[tuple[ConsentStatus, TrialEvent], ConsentStatus] = {
    (C.PENDING, TrialEvent.CONSENT_ACCEPTED): C.ACCEPTED,
    (C.PENDING, TrialEvent.CONSENT_DECLINED): C.DECLINED,
    (C.PENDING, TrialEvent.CONSENT_TIMED_OUT): C.EXPIRED,
    (C.PENDING, TrialEvent.REQUEST_WITHDRAWN): C.CANCELLED,
}


def consent_transition(request, event: TrialEvent) -> tuple[str, str]:
    before = request.status
    target = CONSENT_TRANSITIONS.get((ConsentStatus(before), event))
    if target is None:
        raise DomainError(ErrorCode.INVALID_STATE, "This trial request has already been answered or has expired.")
    request.status = target.value
    return before, target.value
