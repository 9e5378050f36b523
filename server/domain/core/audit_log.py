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
- Pages are keyset pages on (at, id), newest first, at most 100 events each; every page walks an
  index in (at, id) order from its cursor and stops after the page: its cost does not grow with
  the log, the page's depth or how rare the filtered events are. Unfiltered: (partner_id, at, id);
  a customer's: (customer_id, at, id); an actor's: (partner_id, actor, at, id), one walk per name
  the actor may have in the log (an email: four), merged; an action's (PostgreSQL): (partner_id,
  action, at, id), one walk per action of the family, the partner's actions listed by skipping
  through the same index (a few dozen probes). Filtering one walk instead read every event of the
  partner when few matched (100-130 ms at 1M events, bench.audit_log).
- R-AUDIT-02: events older than two years (730 days) are deleted by the worker, oldest first, in
  batches of 5000 through the index (at, id): O(expired). Nothing else deletes or changes an event
  (no mutation, page or CLI command does).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Select, String, bindparam, delete, func, select, true, tuple_, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.base import UTCDateTime
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


def check_reader(actor: Actor) -> None:
    """R-AUDIT-01: FORBIDDEN unless `actor` is one of a partner's people who may view."""
    if not actor.is_partner or scope(actor, Action.VIEW) is None:
        raise forbidden("Only a partner's people read its audit log.")


def reach(actor: Actor, customer=None):
    """R-AUDIT-01: the events `actor` may read, as a condition on AuditEvent; FORBIDDEN when none.
    `customer`: the filter's customer (a parameter): whether it is viewed is then asked once, not of
    every event walked (a customer out of reach answered its empty page after reading every one of
    its events: 172 ms for 142 857 of them)."""
    check_reader(actor)
    own = AuditEvent.partner_id == actor.partner_id
    if actor.has(Role.PARTNER_FULL_ADMIN):
        return own
    viewed = select(CustomerOrg.id).where(visibility.customer_condition(actor))
    return own & (AuditEvent.customer_id if customer is None else customer).in_(viewed)


def _actors(value: str) -> list[str]:
    value = value.strip()
    emails = [f"{kind.value}:{value.lower()}" for kind in PERSON_KINDS] if "@" in value else []
    return [value, *emails]


def _family(action: str) -> str:
    """The LIKE pattern of an action's family (`trial` → `trial.%`), `\\`, `%` and `_` matching themselves."""
    return action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"


def shape(where: Filter, after: Position | None) -> tuple:
    """What of a page request its statement's text depends on: which filters are present (an email
    names the actor in several forms: how many), whether it continues after a cursor."""
    actors = len(_actors(where.actor)) if where.actor and where.actor.strip() else 0
    return (actors, bool(where.action and where.action.strip()), where.customer_id is not None,
            where.since is not None, where.until is not None, after is not None)


def parameters(where: Filter, *, first: int | None = None, after: Position | None = None,
               prefix: str = "") -> dict[str, Any]:
    """The values of the named parameters of `page_statement` / `count_statement` (`first`: the page
    size, checked here; None for the count alone)."""
    values: dict[str, Any] = {}
    if where.actor and where.actor.strip():
        values.update({f"actor_{n}": name for n, name in enumerate(_actors(where.actor))})
    if where.action and where.action.strip():
        values["action"] = where.action.strip()
        values["family"] = _family(where.action.strip())
    if where.customer_id is not None:
        values["customer_id"] = where.customer_id
    if where.since is not None:
        values["since"] = where.since
    if where.until is not None:
        values["until"] = where.until
    if first is not None:
        values["limit"] = check_first(first) + 1
    if after is not None:
        values["after_at"], values["after_id"] = after.at, after.id
    return {prefix + name: value for name, value in values.items()}


def conditions(actor: Actor, where: Filter, prefix: str = "", *, walked: str = "") -> list:
    """The log's WHERE: the actor's reach and the filters present in `where`, their values the named
    parameters `parameters` gives (the text depends only on `shape`, never on the values); without
    the `walked` filter ("actor", "action"), which the page's index walks apply themselves."""
    customer = None if where.customer_id is None else bindparam(f"{prefix}customer_id", type_=BigInteger)
    found = [reach(actor, customer)]
    if where.actor and where.actor.strip() and walked != "actor":
        found.append(AuditEvent.actor.in_([bindparam(f"{prefix}actor_{n}", type_=String)
                                           for n in range(len(_actors(where.actor)))]))
    if where.action and where.action.strip() and walked != "action":
        found.append((AuditEvent.action == bindparam(f"{prefix}action", type_=String))
                     | AuditEvent.action.like(bindparam(f"{prefix}family", type_=String), escape="\\"))
    if where.customer_id is not None:
        found.append(AuditEvent.customer_id == bindparam(f"{prefix}customer_id", type_=BigInteger))
    if where.since is not None:
        found.append(AuditEvent.at >= bindparam(f"{prefix}since", type_=UTCDateTime))
    if where.until is not None:
        found.append(AuditEvent.at < bindparam(f"{prefix}until", type_=UTCDateTime))
    return found


def check_first(first: int) -> int:
    if not 1 <= first <= PAGE_MAX:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Ask for 1 to {PAGE_MAX} events a page.", "first")
    return first


def page_statement(actor: Actor, where: Filter, *, after: bool = False, prefix: str = "",
                   postgres: bool = False) -> Select:
    """The SELECT of a page (`:limit` = first + 1 events, to tell whether more follow): every column of
    the event and its `sort_key` (its time), newest first, walking an index from the cursor (the
    module's docstring says which). Also the page of the planned `auditLog` connection (server.planner).
    `postgres`: the action's walks (LATERAL, which SQLite lacks; there the action filters the walk)."""
    names = len(_actors(where.actor)) if where.actor and where.actor.strip() else 0
    if names:
        walks = [_walk(actor, where, after, prefix, "actor", AuditEvent.actor == bindparam(f"{prefix}actor_{n}",
                                                                                          type_=String))
                 for n in range(names)]
        return walks[0] if names == 1 else _merged([select(*walk.subquery().c) for walk in walks], prefix)
    if postgres and where.action and where.action.strip():
        return _action_walks(actor, where, after, prefix)
    return _walk(actor, where, after, prefix)


def _limit(prefix: str):
    return bindparam(f"{prefix}limit", type_=BigInteger)


def _walk(actor: Actor, where: Filter, after: bool, prefix: str, walked: str = "", *extra) -> Select:
    """One ordered walk: the events matching `where` (less the `walked` filter, plus `extra`), newest
    first from the cursor, `:limit` of them."""
    statement = select(*AuditEvent.__table__.c, AuditEvent.at.label("sort_key")).where(
        *conditions(actor, where, prefix, walked=walked), *extra)
    if after:
        statement = statement.where(tuple_(AuditEvent.at, AuditEvent.id) < tuple_(
            bindparam(f"{prefix}after_at", type_=UTCDateTime), bindparam(f"{prefix}after_id", type_=BigInteger)))
    return statement.order_by(*order()).limit(_limit(prefix))


def _merged(walks: list[Select], prefix: str) -> Select:
    """The newest `:limit` events of several walks (each at most `:limit` long)."""
    merged = union_all(*walks).subquery()
    return select(*merged.c).order_by(*order(merged.c)).limit(_limit(prefix))


def _action_walks(actor: Actor, where: Filter, after: bool, prefix: str) -> Select:
    """PostgreSQL: the partner's actions listed by skipping through (partner_id, action, …) (the
    smallest action, then the smallest after it, …: one probe each), the action and its family's
    kept, one walk of (partner_id, action, at, id) each (LATERAL), merged."""
    event = aliased(AuditEvent)
    actions = select(func.min(event.action).label("action")).where(event.partner_id == actor.partner_id).cte(
        "partner_actions", recursive=True)
    following = aliased(AuditEvent)
    actions = actions.union_all(select(select(func.min(following.action)).where(
        following.partner_id == actor.partner_id, following.action > actions.c.action).scalar_subquery())
        .where(actions.c.action.is_not(None)))
    walk = _walk(actor, where, after, prefix, "action", AuditEvent.action == actions.c.action).lateral("walk")
    wanted = ((actions.c.action == bindparam(f"{prefix}action", type_=String))
              | actions.c.action.like(bindparam(f"{prefix}family", type_=String), escape="\\"))
    return (select(*walk.c).select_from(actions.join(walk, true())).where(wanted)
            .order_by(*order(walk.c)).limit(_limit(prefix)))


def order(event=AuditEvent) -> list:
    """Newest first (an event's columns, or a page's: `at`, `id`)."""
    return [event.at.desc(), event.id.desc()]


def count_statement(actor: Actor, where: Filter, prefix: str = "") -> Select:
    """How many events match (reads every matching index entry: ask only when needed)."""
    return select(func.count()).select_from(AuditEvent).where(*conditions(actor, where, prefix))


async def page(db: AsyncSession, actor: Actor, where: Filter, *, first: int = 50,
               after: Position | None = None) -> tuple[list, bool]:
    """One page of the log, newest first: (events, whether more follow)."""
    values = parameters(where, first=first, after=after)
    postgres = db.bind.dialect.name == "postgresql"
    rows = (await db.execute(page_statement(actor, where, after=after is not None, postgres=postgres), values)).all()
    return rows[:first], len(rows) > first


async def count(db: AsyncSession, actor: Actor, where: Filter) -> int:
    """How many events match."""
    return await db.scalar(count_statement(actor, where), parameters(where))


async def delete_expired(db: AsyncSession, *, batch: int = RETENTION_BATCH) -> int:
    """R-AUDIT-02: delete up to `batch` events older than two years, oldest first; how many went.
    The worker calls it until it answers less than a batch (each call its own transaction)."""
    cutoff = clock.now() - RETENTION
    oldest = select(AuditEvent.id).where(AuditEvent.at < cutoff).order_by(AuditEvent.at, AuditEvent.id).limit(batch)
    result = await db.execute(delete(AuditEvent).where(AuditEvent.id.in_(oldest.scalar_subquery())))
    return result.rowcount or 0
