"""R-AUDIT-01/02: the partner's audit log, and how long it is kept.

The log lists, newest first, the audit events of the partner (`audit_events.partner_id`): its people's
and tokens' actions (sign-ins with the client address, tokens, users and roles, webhooks, settings)
and its customers' trial actions (the sweep's too: they carry the trial's partner).

Decisions (SPEC silent):
- Partner full admins see all of it. Other partner roles see the events of the customers they view
  (R-ROLE-02: a sales admin their own customers'); events of no customer (sign-ins, tokens, users,
  webhooks, settings) are the full admins' only. Everyone else is refused (FORBIDDEN).
- Filters: `actor` is a person's email or an actor as the log names it (`token:12`, `system`);
  `action` an action (`trial.extended`) or its family (`trial`); `customer` a customer's ID; `since`
  (inclusive) and `until` (exclusive) bound the time.
- Pages are keyset pages on (at, id), newest first, at most 100 events each; every page walks the
  index (partner_id, at, id) (a customer's: (customer_id, at, id)) from its cursor: its cost does
  not grow with the log or the page's depth.
- R-AUDIT-02: events older than two years (730 days) are deleted by the worker, oldest first, in
  batches of 5000 through the index (at, id): O(expired). Nothing else deletes or changes an event
  (no mutation, page or CLI command does).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import AuditEvent, CustomerOrg
from server.domain.core import visibility
from server.domain.core.actor import Actor, ActorKind
from server.domain.core.errors import DomainError
from server.domain.core.permissions import Action, forbidden, scope
from server.enums import ErrorCode, Role

PAGE_MAX = 100
RETENTION = timedelta(days=730)
RETENTION_BATCH = 5000
#: How the log names a person (Actor.label): the kinds a filter by email matches.
PERSON_KINDS = (ActorKind.PARTNER_USER, ActorKind.CUSTOMER_ADMIN, ActorKind.TRIALS_TEAM)


@dataclass(frozen=True)
class Filter:
    actor: str | None = None
    action: str | None = None
    customer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Position:
    """Where a page starts: after the event (at, id)."""
    at: datetime
    id: int


def reach(actor: Actor):
    """R-AUDIT-01: the events `actor` may read, as a condition on AuditEvent; FORBIDDEN when none."""
    if not actor.is_partner or scope(actor, Action.VIEW) is None:
        raise forbidden("Only a partner's people read its audit log.")
    own = AuditEvent.partner_id == actor.partner_id
    if actor.has(Role.PARTNER_FULL_ADMIN):
        return own
    viewed = select(CustomerOrg.id).where(visibility.customer_condition(actor))
    return own & AuditEvent.customer_id.in_(viewed)


def _actors(value: str) -> list[str]:
    value = value.strip()
    emails = [f"{kind.value}:{value.lower()}" for kind in PERSON_KINDS] if "@" in value else []
    return [value, *emails]


def _filtered(statement: Select, actor: Actor, where: Filter) -> Select:
    statement = statement.where(reach(actor))
    if where.actor and where.actor.strip():
        statement = statement.where(AuditEvent.actor.in_(_actors(where.actor)))
    if where.action and where.action.strip():
        action = where.action.strip()
        statement = statement.where((AuditEvent.action == action)
                                    | AuditEvent.action.startswith(action + ".", autoescape=True))
    if where.customer_id is not None:
        statement = statement.where(AuditEvent.customer_id == where.customer_id)
    if where.since is not None:
        statement = statement.where(AuditEvent.at >= where.since)
    if where.until is not None:
        statement = statement.where(AuditEvent.at < where.until)
    return statement


def check_first(first: int) -> int:
    if not 1 <= first <= PAGE_MAX:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Ask for 1 to {PAGE_MAX} events a page.", "first")
    return first


async def page(db: AsyncSession, actor: Actor, where: Filter, *, first: int = 50,
               after: Position | None = None) -> tuple[list[AuditEvent], bool]:
    """One page of the log, newest first: (events, whether more follow)."""
    statement = _filtered(select(AuditEvent), actor, where)
    if after is not None:
        statement = statement.where(tuple_(AuditEvent.at, AuditEvent.id) < tuple_(after.at, after.id))
    rows = list(await db.scalars(statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                 .limit(check_first(first) + 1)))
    return rows[:first], len(rows) > first


async def count(db: AsyncSession, actor: Actor, where: Filter) -> int:
    """How many events match (reads every matching index entry: ask only when needed)."""
    return await db.scalar(_filtered(select(func.count()).select_from(AuditEvent), actor, where))


async def delete_expired(db: AsyncSession, *, batch: int = RETENTION_BATCH) -> int:
    """R-AUDIT-02: delete up to `batch` events older than two years, oldest first; how many went.
    The worker calls it until it answers less than a batch (each call its own transaction)."""
    cutoff = clock.now() - RETENTION
    oldest = select(AuditEvent.id).where(AuditEvent.at < cutoff).order_by(AuditEvent.at, AuditEvent.id).limit(batch)
    result = await db.execute(delete(AuditEvent).where(AuditEvent.id.in_(oldest.scalar_subquery())))
    return result.rowcount or 0
