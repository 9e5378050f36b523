"""What a viewer may do to a trial they see (`Trial.viewerCan`), decided by the rules the mutations
apply, not by a copy of them: the permission matrix (R-ROLE-02, `permissions.can`), the state machine
(`lifecycle.TRIAL_TRANSITIONS`: R-EDIT-01 edit, R-EXT-01 extend, R-CONV-01 convert, R-CANCEL-01
cancel, R-EX-05 a partner's cancel of a request pending consent withdraws it) and R-CONV-01's tier
rule (a tier-2 partner converts through its distributor). tests/core/test_r_role_02_viewer_can.py
holds each answer equal to what the mutation does, for every role and state.

"Own customer" (the "own" scope of a sales admin) is read by the caller with
`visibility.own_customer` (SQL), only when `needs_own_customer` says the answer depends on it.
"""
from __future__ import annotations

from dataclasses import dataclass

from server.domain.core import permissions
from server.domain.core.actor import Actor
from server.domain.core.permissions import Action
from server.domain.trials.lifecycle import TRIAL_TRANSITIONS, TrialEvent
from server.enums import PartnerTier, TrialState


@dataclass(frozen=True)
class TrialActions:
    extend: bool
    cancel: bool
    convert: bool
    edit: bool
    #: any change at all (resend or withdraw consent, retry provisioning, devices, calling)
    manage: bool


def cancel_action(actor: Actor) -> Action:
    """R-CANCEL-01: a customer admin cancels their own org's trial; partner staff manage it."""
    return Action.CUSTOMER_CANCEL if actor.is_customer_admin else Action.MANAGE_TRIAL


def needs_own_customer(actor: Actor) -> bool:
    """Whether `allowed` reads `own_customer` for this actor (a partner user whose MANAGE_TRIAL reach is
    their own customers only)."""
    return actor.is_partner and permissions.scope(actor, Action.MANAGE_TRIAL) == "own"


def allowed(actor: Actor, state: str, *, customer_id: int, own_customer: bool | None,
            partner_tier: str | None) -> TrialActions:
    """The actions `actor` may take on a trial in `state` of the customer `customer_id` (`own_customer`:
    `visibility.own_customer` of it, None when `needs_own_customer` is false; `partner_tier`: the
    viewer's partner's tier, None for anyone else)."""
    current = TrialState(state)

    def moves(*events: TrialEvent) -> bool:
        return any((current, event) in TRIAL_TRANSITIONS for event in events)

    manage = permissions.can(actor, Action.MANAGE_TRIAL, own_customer=own_customer)
    if actor.is_customer_admin:
        cancel = permissions.can(actor, cancel_action(actor), own_customer=customer_id == actor.customer_id) \
            and moves(TrialEvent.CANCELLED)
    else:
        cancel = manage and moves(TrialEvent.CANCELLED, TrialEvent.REQUEST_WITHDRAWN)
    return TrialActions(extend=manage and moves(TrialEvent.EXTENDED), cancel=cancel,
                        convert=manage and moves(TrialEvent.CONVERTED) and partner_tier == PartnerTier.TIER1.value,
                        edit=manage and moves(TrialEvent.EDITED), manage=manage)
