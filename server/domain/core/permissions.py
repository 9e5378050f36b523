"""R-ROLE-02: the permission matrix, in one place, used by every entry point (API, portal, CLI, jobs).

| action                                   | P full | P admin | S full | S admin        | read-only |
|------------------------------------------|--------|---------|--------|----------------|-----------|
| view customers, trials, shipments        | all    | all     | all    | own customers  | all       |
| start / request existing / add to paid   | –      | –       | yes    | yes            | –         |
| edit, extend, cancel, resend, convert    | yes    | yes     | yes    | own customers  | –         |
| manage partner users and roles, tokens   | yes    | –       | –      | –              | –         |
| manage webhook endpoints                 | yes    | –       | –      | –              | –         |
| partner settings (R-SET-01/02)           | yes    | –       | –      | –              | –         |
| read the audit log (R-AUDIT-01)          | all    | the events of the customers they view (as above)          |

"Own customers" are the customers whose trials that user started. Customer admins act only on
their own org (R-EX-04, R-BUY-01, R-CANCEL-01); the trials team (R-ROLE-05) decides device
extensions and records shipments and returns, and lists and revokes their own API tokens (made by
`trialdesk token create`; "own" for them is their own tokens). Operators (SYSTEM: the CLI) reach
every token. Everything else is denied with FORBIDDEN.
"""
from __future__ import annotations

from enum import StrEnum

from server.domain.core.actor import Actor, ActorKind
from server.domain.core.errors import DomainError
from server.enums import ErrorCode, Role


class Action(StrEnum):
    VIEW = "view"
    START_TRIAL = "start_trial"
    MANAGE_TRIAL = "manage_trial"
    MANAGE_USERS = "manage_users"
    MANAGE_WEBHOOKS = "manage_webhooks"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_API_TOKENS = "manage_api_tokens"
    DECIDE_DEVICE_EXTENSION = "decide_device_extension"
    RECORD_SHIPMENT = "record_shipment"
    CUSTOMER_CONSENT = "customer_consent"
    CUSTOMER_CANCEL = "customer_cancel"
    CUSTOMER_INTEREST = "customer_interest"


_ALL_CUSTOMERS = {Action.VIEW: {Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN, Role.READ_ONLY},
                  Action.START_TRIAL: {Role.SALES_FULL_ADMIN, Role.SALES_ADMIN},
                  Action.MANAGE_TRIAL: {Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN},
                  Action.MANAGE_USERS: {Role.PARTNER_FULL_ADMIN},
                  Action.MANAGE_WEBHOOKS: {Role.PARTNER_FULL_ADMIN},
                  Action.MANAGE_SETTINGS: {Role.PARTNER_FULL_ADMIN},
                  Action.MANAGE_API_TOKENS: {Role.PARTNER_FULL_ADMIN}}
#: Roles that may act, but only on customers whose trials the user started.
_OWN_CUSTOMERS = {Action.VIEW: {Role.SALES_ADMIN}, Action.MANAGE_TRIAL: {Role.SALES_ADMIN}}

_TRIALS_TEAM = {Action.DECIDE_DEVICE_EXTENSION, Action.RECORD_SHIPMENT, Action.VIEW}
#: What a trials-team user may do to their own things only.
_TRIALS_TEAM_OWN = {Action.MANAGE_API_TOKENS}
_CUSTOMER_ADMIN = {Action.CUSTOMER_CONSENT, Action.CUSTOMER_CANCEL, Action.CUSTOMER_INTEREST, Action.VIEW}


def scope(actor: Actor, action: Action) -> str | None:
    """How far `action` reaches for this actor: "all", "own" (own customers), or None (denied)."""
    if actor.kind is ActorKind.SYSTEM:
        return "all"
    if actor.is_partner:
        if actor.roles & _ALL_CUSTOMERS.get(action, set()):
            return "all"
        if actor.roles & _OWN_CUSTOMERS.get(action, set()):
            return "own"
        return None
    if actor.kind is ActorKind.TRIALS_TEAM and action in _TRIALS_TEAM:
        return "all"
    if actor.kind is ActorKind.TRIALS_TEAM and action in _TRIALS_TEAM_OWN and actor.user_id is not None:
        return "own"
    if actor.kind is ActorKind.CUSTOMER_ADMIN and action in _CUSTOMER_ADMIN:
        return "own"
    return None


def can(actor: Actor, action: Action, *, own_customer: bool | None = None) -> bool:
    """May `actor` do `action`? `own_customer` says whether the target customer is one whose trial
    this user started (only asked when the scope is "own")."""
    reach = scope(actor, action)
    if reach == "all":
        return True
    if reach == "own":
        return bool(own_customer) if own_customer is not None else False
    return False


def forbidden(message: str = "You do not have permission to do this.") -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, message)


def require(actor: Actor, action: Action, *, own_customer: bool | None = None) -> None:
    """Raise FORBIDDEN unless allowed. The caller audits the denial (audit.denied)."""
    if not can(actor, action, own_customer=own_customer):
        raise forbidden()
