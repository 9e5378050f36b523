"""What needs the partner today (the home page): each category a count and its first rows,
scoped exactly as the customers list (`visibility.customer_condition` and `trial_condition`:
R-ORG-02, R-ROLE-02 "own customers" for sales admins).

Decisions (SPEC is silent):
- TRIALS_ENDING_SOON: ACTIVE trials (so not converted) ending within the next 7 days, the window
  of R-TIME-01's warning. Soonest first; `days_left` to the end.
- TRIALS_IN_GRACE: EXPIRED trials (R-TIME-03), with the days left to convert or extend before
  release (`days_left` to `grace_ends_at`). Soonest release first.
- CONSENT_PENDING: consent requests still PENDING more than 20 days after they were sent; `at` is
  the day they lapse (R-EX-06, `expires_at`).
- PROVISIONING_FAILED: customers whose provisioning status is UNABLE_TO_PROVISION (R-NEW-04).
- DEVICE_RETURNS_DUE: shipments still at the customer whose last return day (`return_by`,
  R-RMA-01) is within 14 days, or flagged OVERDUE; `overdue` once that day has passed.
- DEVICE_EXTENSIONS_WAITING: device extension requests PENDING with the trials team (R-EXT-02).
- LOW_ADOPTION_ENDING_SOON (SPEC §10 R-USE-05): ACTIVE trials ending within 14 days whose health
  (R-USE-04, server.domain.usage.sql.health_rank at the clock's today) is LOW or INACTIVE. Soonest
  end first; `days_left` to the end.
- PURCHASE_INTEREST: trials whose customer admin clicked "I'm interested in buying" (R-BUY-01; the
  click is recorded as its `trial.purchase_interest` audit event) and that are still live (ACTIVE,
  EXPIRED in grace, PENDING_PROVISIONING): not converted, cancelled nor released. `at` is the last click.

Cost: one SQL statement for every category (each a SELECT carrying its total as a window
`count(*) OVER ()` and a row number, cut at `first` rows, all UNION ALL'd), so the number of
statements does not grow with the data (bench.home counts them at 100 and 10k customers). It is
built once per actor (the moments are bound parameters); the rare rows of two categories have
partial indexes (migration 0008).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    BigInteger, Date, Integer, String, and_, bindparam, cast, func, literal, literal_column, null, or_, select,
    type_coerce, union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server import clock
from server.db.base import UTCDateTime
from server.db import models
from server.db.models import AuditEvent, ConsentRequest, CustomerOrg, DeviceExtensionRequest, Shipment
from server.domain.core import permissions
from server.domain.trials import status
from server.domain.trials.changes import PURCHASE_INTEREST_ACTION
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.domain.core.permissions import Action
from server.domain.devices.shipments import OUT
from server.domain.usage import adoption
from server.domain.usage import sql as usage_sql
from server.enums import (
    AdoptionHealth, ConsentStatus, ErrorCode, ExtensionStatus, ProvisioningStatus, ShipmentStatus, TrialState,
)

ENDING_WITHIN = timedelta(days=7)
LOW_ADOPTION_ENDING_WITHIN = timedelta(days=14)
CONSENT_PENDING_FOR = timedelta(days=20)
RETURNS_WITHIN = timedelta(days=14)
MAX_ROWS = 50
#: Trial states in which a customer's interest in buying still asks for an answer.
LIVE = (TrialState.ACTIVE.value, TrialState.EXPIRED.value, TrialState.PENDING_PROVISIONING.value)
#: R-USE-05: the healths the home page lists among trials ending soon.
NEEDS_ADOPTION = (adoption.HEALTH_RANK[AdoptionHealth.INACTIVE], adoption.HEALTH_RANK[AdoptionHealth.LOW])


def _bound(prefix: str) -> dict:
    """The statement's parameters, named after `prefix` (the read planner names its roots' parameters)."""
    return {"ending_by": bindparam(f"{prefix}ending_by", type_=UTCDateTime),
            "low_adoption_ending_by": bindparam(f"{prefix}low_adoption_ending_by", type_=UTCDateTime),
            "sent_before": bindparam(f"{prefix}sent_before", type_=UTCDateTime),
            "return_by": bindparam(f"{prefix}return_by", type_=Date),
            "first": bindparam(f"{prefix}first", type_=Integer)}
#: The trial a row is about. An alias, since the customers list's scope (visibility.customer_condition)
#: has EXISTS subqueries over `trials` that must not correlate with it.
Trial = aliased(models.Trial, name="attention_trial")


class AttentionKind(StrEnum):
    TRIALS_ENDING_SOON = "TRIALS_ENDING_SOON"
    TRIALS_IN_GRACE = "TRIALS_IN_GRACE"
    CONSENT_PENDING = "CONSENT_PENDING"
    PROVISIONING_FAILED = "PROVISIONING_FAILED"
    DEVICE_RETURNS_DUE = "DEVICE_RETURNS_DUE"
    DEVICE_EXTENSIONS_WAITING = "DEVICE_EXTENSIONS_WAITING"
    PURCHASE_INTEREST = "PURCHASE_INTEREST"
    LOW_ADOPTION_ENDING_SOON = "LOW_ADOPTION_ENDING_SOON"


@dataclass(frozen=True)
class AttentionItem:
    customer_id: int
    customer_name: str
    trial_id: int | None
    #: The day that matters (end, release, lapse, return by, asked, clicked), UTC.
    day: date | None
    days_left: int | None
    overdue: bool = False


@dataclass
class AttentionList:
    kind: AttentionKind
    total: int = 0
    items: list[AttentionItem] = field(default_factory=list)


def _row(kind: AttentionKind, trial_id, at, day, order) -> list:
    """One category's SELECT list, in the shape every category shares (NULL where it has no value)."""
    def column(value, type_, name):
        return (cast(null(), type_) if value is None else type_coerce(value, type_)).label(name)
    return [literal(kind.value, String).label("kind"), CustomerOrg.id.label("customer_id"),
            CustomerOrg.name.label("customer_name"), column(trial_id, BigInteger, "trial_id"),
            column(at, UTCDateTime, "at"), column(day, Date, "day"), func.count().over().label("total"),
            func.row_number().over(order_by=[order, CustomerOrg.id]).label("n")]


def _clicks(actor: Actor):
    """R-BUY-01's clicks as (trial_id, last click), read through their partial index (migration 0008);
    a partner's clicks are those of its own trials (the audit event carries the trial's partner)."""
    clicks = select(AuditEvent.subject_id.label("trial_id"), func.max(AuditEvent.at).label("at")).where(
        AuditEvent.action == literal_column(f"'{PURCHASE_INTEREST_ACTION}'"), AuditEvent.subject_type == "Trial")
    if actor.is_partner:
        clicks = clicks.where(AuditEvent.partner_id == actor.partner_id)
    return clicks.group_by(AuditEvent.subject_id).subquery("clicks")


def _statements(actor: Actor, prefix: str = "") -> dict:
    """Each category's SELECT over visible customers and the actor's trials of them. The moments are
    bound parameters, so the statement is built once per actor."""
    bound = _bound(prefix)
    seen = visibility.customer_condition(actor)
    trial_join = and_(Trial.customer_id == CustomerOrg.id, visibility.trial_condition(actor, Trial))
    clicks = _clicks(actor)
    K = AttentionKind
    return {
        K.TRIALS_ENDING_SOON: select(*_row(K.TRIALS_ENDING_SOON, Trial.id, Trial.ends_at, None, Trial.ends_at))
        .join(Trial, trial_join).where(seen, Trial.state == TrialState.ACTIVE.value, Trial.ends_at <= bound["ending_by"]),
        K.TRIALS_IN_GRACE: select(*_row(K.TRIALS_IN_GRACE, Trial.id, Trial.grace_ends_at, None,
                                        Trial.grace_ends_at))
        .join(Trial, trial_join).where(seen, Trial.state == TrialState.EXPIRED.value),
        K.CONSENT_PENDING: select(*_row(K.CONSENT_PENDING, ConsentRequest.trial_id,
                                        ConsentRequest.expires_at, None, ConsentRequest.expires_at))
        .join(ConsentRequest, ConsentRequest.customer_id == CustomerOrg.id)
        .join(Trial, and_(Trial.id == ConsentRequest.trial_id, trial_join))
        .where(seen, ConsentRequest.status == ConsentStatus.PENDING.value, ConsentRequest.created_at <= bound["sent_before"]),
        K.PROVISIONING_FAILED: select(*_row(K.PROVISIONING_FAILED, None, None, None, CustomerOrg.name))
        .where(seen, CustomerOrg.provisioning_status == literal_column(
            f"'{ProvisioningStatus.UNABLE_TO_PROVISION.value}'")),  # a literal, so its partial index applies
        K.DEVICE_RETURNS_DUE: select(*_row(K.DEVICE_RETURNS_DUE, Shipment.trial_id, None,
                                           Shipment.return_by, Shipment.return_by))
        .join(Shipment, Shipment.customer_id == CustomerOrg.id)
        .join(Trial, and_(Trial.id == Shipment.trial_id, trial_join))
        .where(seen, Shipment.status.in_([s.value for s in OUT]),
               or_(Shipment.return_by <= bound["return_by"], Shipment.status == ShipmentStatus.OVERDUE.value)),
        K.DEVICE_EXTENSIONS_WAITING: select(*_row(K.DEVICE_EXTENSIONS_WAITING, Trial.id,
                                                  DeviceExtensionRequest.created_at, None,
                                                  DeviceExtensionRequest.created_at))
        .join(Trial, trial_join).join(DeviceExtensionRequest, DeviceExtensionRequest.trial_id == Trial.id)
        .where(seen, DeviceExtensionRequest.status == ExtensionStatus.PENDING.value),
        K.LOW_ADOPTION_ENDING_SOON: select(*_row(K.LOW_ADOPTION_ENDING_SOON, Trial.id, Trial.ends_at, None,
                                                 Trial.ends_at))
        .join(Trial, trial_join).where(seen, Trial.state == TrialState.ACTIVE.value,
                                       Trial.ends_at <= bound["low_adoption_ending_by"],
                                       usage_sql.health_rank(Trial, usage_sql.bound_days(prefix)).in_(NEEDS_ADOPTION)),
        K.PURCHASE_INTEREST: select(*_row(K.PURCHASE_INTEREST, Trial.id, clicks.c.at, None, clicks.c.at.desc()))
        .select_from(clicks).join(Trial, Trial.id == clicks.c.trial_id).join(CustomerOrg, trial_join)
        .where(seen, Trial.state.in_(LIVE)),
    }


@lru_cache(maxsize=1024)
def statement(actor: Actor, prefix: str = ""):
    """The one statement behind `needs_attention`: every category's first `first` rows (a bound
    parameter, as are the moments: `parameters()`), each carrying its category's total. Built once
    per actor (and parameter prefix): building it cost more than running it."""
    cut = []
    first = _bound(prefix)["first"]
    for select_ in _statements(actor, prefix).values():
        sub = select_.subquery()
        cut.append(select(sub).where(sub.c.n <= first))
    return union_all(*cut)


def parameters(now: datetime, first: int, prefix: str = "") -> dict:
    values = {"ending_by": now + ENDING_WITHIN, "sent_before": now - CONSENT_PENDING_FOR,
              "return_by": now.date() + RETURNS_WITHIN, "first": max(first, 1),
              "low_adoption_ending_by": now + LOW_ADOPTION_ENDING_WITHIN, **usage_sql.day_values(now.date())}
    return {prefix + name: value for name, value in values.items()}


def _item(kind: AttentionKind, row, now: datetime) -> AttentionItem:
    at, day = row.at, row.day
    overdue = False
    if kind is AttentionKind.DEVICE_RETURNS_DUE and day is not None:
        left = (day - now.date()).days
        overdue, left = left < 0, max(left, 0)
    else:
        left = status.days_left(at, now) if at is not None and kind in _COUNTDOWN else None
    return AttentionItem(customer_id=row.customer_id, customer_name=row.customer_name, trial_id=row.trial_id,
                         day=day if day is not None else (at.date() if at is not None else None),
                         days_left=left, overdue=overdue)


_COUNTDOWN = {AttentionKind.TRIALS_ENDING_SOON, AttentionKind.TRIALS_IN_GRACE, AttentionKind.CONSENT_PENDING,
              AttentionKind.LOW_ADOPTION_ENDING_SOON}


def check(actor: Actor, first: int) -> None:
    """What `needs_attention` refuses before reading: FORBIDDEN, `first` out of range."""
    if permissions.scope(actor, Action.VIEW) is None:
        raise permissions.forbidden()
    if first < 0 or first > MAX_ROWS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"`first` must be between 0 and {MAX_ROWS}.", "first")


def lists_of(rows, first: int, now: datetime) -> list[AttentionList]:
    """Every category in a fixed order (empty ones too) from `statement`'s rows (attributes by label:
    kind, customer_id, customer_name, trial_id, at, day, total, n)."""
    lists = {kind: AttentionList(kind) for kind in AttentionKind}
    for row in sorted(rows, key=lambda r: (r.kind, r.n)):
        found = lists[AttentionKind(row.kind)]
        found.total = row.total
        if row.n <= first:
            found.items.append(_item(found.kind, row, now))
    return list(lists.values())


async def needs_attention(db: AsyncSession, actor: Actor, first: int = 5) -> list[AttentionList]:
    """Every category in a fixed order (empty ones too), each with its total and first `first` rows."""
    check(actor, first)
    now = clock.now()
    rows = (await db.execute(statement(actor), parameters(now, first))).all()
    return lists_of(rows, first, now)
