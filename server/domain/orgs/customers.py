"""The partner's customer list and the customer look-ups (R-ORG-02, R-EX-01, R-TIME-07).

Lists are filtered in SQL by the actor's reach (server.domain.core.visibility), so a page never reads
another tenant's rows. Pages are keyset pages (`Position`: sort key + id of the last row shown);
`first` is capped at 100 (DESIGN contract).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (BigInteger, Integer, String, and_, bindparam, exists, func, literal_column, nulls_last, or_,
                        select, true)
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock, kept
from server.db.base import UTCDateTime, contains
from server.db.models import AuditEvent, CustomerOrg, CustomerUser, LoginAttempt, Trial
from server.domain.core import audit
from server.domain.core import permissions
from server.domain.trials import status
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.orgs.directory import normalize_email
from server.domain.core.errors import DomainError
from server.domain.core.permissions import Action
from server.domain.usage import adoption
from server.domain.usage import sql as usage_sql
from server.enums import AdoptionHealth, CustomerRole, ErrorCode, TrialState

MAX_PAGE = 100
#: A page statement's rows at the most (the largest page and one more, to tell a next page exists),
#: written into its text under the page size it is given (`:limit`, bound per call): PostgreSQL plans
#: a prepared statement's generic plan (the read pool uses them) as if `LIMIT $n` kept 10 % of the
#: rows, and chose to sort every matching customer (a status filter at 10k customers: 1.7 ms) over
#: walking the name index to the page's end (0.35 ms); with the literal cap inside it walks the index,
#: and the executor still stops after `:limit` rows (bench: the TRIAL_ACTIVE page statement's
#: generic plan 3.2 -> 1.9 ms at load 5, 10k customers).
PAGE_ROWS_MAX = MAX_PAGE + 1
LOOKUPS_PER_HOUR = 20


class CustomerOrder(StrEnum):
    NAME = "NAME"
    DAYS_LEFT = "DAYS_LEFT"
    #: SPEC §10 R-USE-05: least healthy trial first (server.domain.usage.adoption.HEALTH_RANK).
    ADOPTION = "ADOPTION"


#: Orders whose key may be NULL (customers without a trial it ranks come last).
NULLS_LAST = frozenset({CustomerOrder.DAYS_LEFT, CustomerOrder.ADOPTION})


EXPIRY_HORIZON_DAYS = 3650


@dataclass
class CustomerFilter:
    search: str | None = None
    status: str | None = None
    provisioning_status: str | None = None
    expiring_within_days: int | None = None
    #: R-USE-05: customers with a trial (of those the viewer sees) of this health.
    adoption: str | None = None


def search_term(search: str | None) -> str | None:
    """What a search looks for (lower case, anywhere in the name or admin email, `contains`: `%`, `_`
    and `\\` are themselves, no wildcard); None for no term (or only blanks)."""
    if not search or not search.strip():
        return None
    return search.strip().lower()


def _conditions(actor: Actor, where: CustomerFilter, prefix: str) -> list:
    """The list's WHERE: the actor's reach and the filters present in `where`; their values are the
    named parameters `parameters` gives (the text depends only on which filters are present and the
    status asked for, never on the values)."""
    if permissions.scope(actor, Action.VIEW) is None:
        raise permissions.forbidden()
    conditions = [visibility.customer_condition(actor)]
    if search_term(where.search) is not None:
        term = bindparam(f"{prefix}search", type_=String)
        conditions.append(or_(contains(func.lower(CustomerOrg.name), term),
                              and_(visibility.details_condition(actor),  # R-EX-01: not a pending request's admin email
                                   contains(func.lower(CustomerOrg.admin_email), term))))
    if where.status:
        conditions.extend(status.sql_filter(visibility.trial_condition(actor), where.status,
                                            lambda days: bindparam(f"{prefix}ends_by_{days}", type_=UTCDateTime)))
    if where.provisioning_status:
        conditions.append(CustomerOrg.provisioning_status == bindparam(f"{prefix}provisioning_status", type_=String))
    if where.expiring_within_days is not None:
        conditions.append(exists(select(Trial.id).where(
            Trial.customer_id == CustomerOrg.id, visibility.trial_condition(actor),
            Trial.state == TrialState.ACTIVE.value, Trial.ends_at <= bindparam(f"{prefix}horizon", type_=UTCDateTime))))
    if where.adoption:
        rank = usage_sql.health_rank(Trial, usage_sql.bound_days(prefix))
        conditions.append(exists(select(Trial.id).where(
            Trial.customer_id == CustomerOrg.id, visibility.trial_condition(actor),
            Trial.state.in_(sorted(adoption.HEALTH_STATES)), rank == bindparam(f"{prefix}adoption_rank", type_=Integer))))
    return conditions


def parameters(where: CustomerFilter, *, now: datetime, first: int | None = None, after: Position | None = None,
               prefix: str = "", order: CustomerOrder = CustomerOrder.NAME) -> dict[str, Any]:
    """The values of the named parameters of `page_statement` / `count_statement` (`first`: the page
    size, checked here; None for the count alone)."""
    values: dict[str, Any] = {}
    if where.adoption:
        values["adoption_rank"] = adoption.HEALTH_RANK[AdoptionHealth(where.adoption)]
    if where.adoption or (first is not None and order is CustomerOrder.ADOPTION):
        values.update(usage_sql.day_values(now.date()))
    term = search_term(where.search)
    if term is not None:
        values["search"] = term
    if where.status:
        values.update({f"ends_by_{days}": now + timedelta(days=days) for days in status.EXPIRING_SOON})
    if where.provisioning_status:
        values["provisioning_status"] = where.provisioning_status
    if where.expiring_within_days is not None:
        # Clamped to ±10 years: no active trial ends further away, so the answer is the same, and
        # a huge value (fuzzing) no longer overflows the date into a 500.
        days = max(-EXPIRY_HORIZON_DAYS, min(where.expiring_within_days, EXPIRY_HORIZON_DAYS))
        values["horizon"] = now + timedelta(days=days)
    if first is not None:
        if first < 0 or first > MAX_PAGE:
            raise DomainError(ErrorCode.INVALID_INPUT, f"`first` must be between 0 and {MAX_PAGE}.", "first")
        values["limit"] = first + 1
    if after is not None:
        values["after_key"], values["after_id"] = after.key, after.id
    return {prefix + name: value for name, value in values.items()}


def shape(where: CustomerFilter, after: Position | None, order: "CustomerOrder") -> tuple:
    """What of a list request its statement's text depends on: which filters are present, the status
    asked for (each status is its own chain of EXISTS / NOT EXISTS, see status.sql_filter), whether
    it continues after a cursor, the order."""
    return (search_term(where.search) is not None, where.status, bool(where.provisioning_status),
            where.expiring_within_days is not None, after is not None, order, bool(where.adoption))


@dataclass(frozen=True)
class Position:
    """Keyset pagination: the sort key and id of the last row a page showed (the next page starts
    after it, so rows added or removed meanwhile never shift or repeat a page)."""
    key: Any
    id: int


def sort_key(actor: Actor, order: CustomerOrder, prefix: str = ""):
    """NAME: lower(name). DAYS_LEFT: the soonest end of the viewer's active or expired trials
    (customers without one come last). ADOPTION: the rank of the least healthy of those trials'
    health (R-USE-04; customers without a health come last)."""
    if order is CustomerOrder.ADOPTION:
        return (select(func.min(usage_sql.health_rank(Trial, usage_sql.bound_days(prefix))))
                .where(Trial.customer_id == CustomerOrg.id, visibility.trial_condition(actor),
                       Trial.state.in_(sorted(adoption.HEALTH_STATES)))
                .scalar_subquery())
    if order is CustomerOrder.DAYS_LEFT:
        return (select(func.min(Trial.ends_at))
                .where(Trial.customer_id == CustomerOrg.id, visibility.trial_condition(actor),
                       Trial.state.in_([TrialState.ACTIVE.value, TrialState.EXPIRED.value]))
                .scalar_subquery())
    return func.lower(CustomerOrg.name)


def _after(key, order: CustomerOrder, prefix: str):
    """After the position `:after_key, :after_id` in the order `key, id` (DAYS_LEFT: NULLS LAST). One
    text whether or not the position's key is null (among the customers that come last)."""
    if order is CustomerOrder.NAME:
        at, pk = bindparam(f"{prefix}after_key", type_=String), bindparam(f"{prefix}after_id", type_=BigInteger)
        return or_(key > at, and_(key == at, CustomerOrg.id > pk))
    key_type = UTCDateTime if order is CustomerOrder.DAYS_LEFT else Integer
    at, pk = bindparam(f"{prefix}after_key", type_=key_type), bindparam(f"{prefix}after_id", type_=BigInteger)
    later = or_(key > at, and_(key == at, CustomerOrg.id > pk), key.is_(None))
    return or_(and_(at.is_(None), key.is_(None), CustomerOrg.id > pk), and_(at.is_not(None), later))


async def list_customers(db: AsyncSession, actor: Actor, where: CustomerFilter, *, first: int,
                         after: Position | None = None, order: CustomerOrder = CustomerOrder.NAME) -> tuple[list, bool]:
    """One page of the customers the actor sees (Core rows of customer_orgs plus their `sort_key`),
    and whether there is a next page."""
    values = parameters(where, now=clock.now(), first=first, after=after, order=order)
    rows = (await db.execute(page_statement(actor, where, after=after is not None, order=order), values)).all()
    return rows[:first], len(rows) > first


def page_statement(actor: Actor, where: CustomerFilter, *, after: bool = False,
                   order: CustomerOrder = CustomerOrder.NAME, prefix: str = ""):
    """The SELECT behind `list_customers` (`:limit` = first + 1 rows, to tell whether a next page
    exists); also the page CTE of the planned customers connection (server.planner). Its text
    depends only on `shape(...)`; the values are `parameters(...)` (`prefix`: their names' prefix,
    for two lists in one statement)."""
    key = sort_key(actor, order, prefix)
    stmt = select(*visibility.customer_columns(actor), key.label("sort_key")).where(*_conditions(actor, where, prefix))
    if after:
        stmt = stmt.where(_after(key, order, prefix))
    ordering = nulls_last(key.asc()) if order in NULLS_LAST else key
    page = stmt.order_by(ordering, CustomerOrg.id).limit(literal_column(str(PAGE_ROWS_MAX))).subquery("page")
    kept_order = nulls_last(page.c.sort_key.asc()) if order in NULLS_LAST else page.c.sort_key
    return select(page).order_by(kept_order, page.c.id).limit(bindparam(f"{prefix}limit", type_=BigInteger))


async def count_customers(db: AsyncSession, actor: Actor, where: CustomerFilter) -> int:
    statement = count_statement(actor, where)
    return int(await db.scalar(statement, parameters(where, now=clock.now())) or 0)


def count_statement(actor: Actor, where: CustomerFilter, prefix: str = ""):
    return select(func.count()).select_from(CustomerOrg).where(*_conditions(actor, where, prefix))


async def _count_lookup(db: AsyncSession, actor: Actor, email: str) -> bool:
    """R-EX-01: count a look-up of `email` in the user's hour (rows of login_attempts keyed
    "orglookup:<actor>"; DB-backed, so every web process shares it); False, uncounted, when the
    hour's LOOKUPS_PER_HOUR are used up. Looking the same email up again within the hour (the
    wizard's confirm, services and send steps) is free: it tells nothing new."""
    now = clock.now()
    seen_key = f"orglookup:{actor.label}:{hashlib.sha256(email.encode()).hexdigest()[:32]}"
    seen = await db.get(LoginAttempt, seen_key)
    if seen is not None and now - seen.window_start < timedelta(hours=1):
        return True
    key = f"orglookup:{actor.label}"
    row = await db.get(LoginAttempt, key, with_for_update=True)
    if row is None:
        row = LoginAttempt(key=key, window_start=now, failures=0)
        db.add(row)
    elif now - row.window_start >= timedelta(hours=1):
        row.window_start, row.failures = now, 0
    if row.failures >= LOOKUPS_PER_HOUR:
        return False
    row.failures += 1
    if seen is None:
        db.add(LoginAttempt(key=seen_key, window_start=now, failures=1))
    else:
        seen.window_start = now
    await db.flush()
    return True


async def find_org_by_email(db: AsyncSession, email: str) -> CustomerOrg | None:
    user = await db.scalar(select(CustomerUser).where(CustomerUser.email == email,
                                                      CustomerUser.moved_to_consumer_at.is_(None)))
    return await db.get(CustomerOrg, user.customer_id) if user else None


async def lookup_existing_org(db: AsyncSession, actor: Actor, admin_email: str) -> CustomerOrg | None:
    """R-EX-01: the org an email belongs to (the caller shows name and country only), or None.
    Only for roles that may start trials; rate-limited per user; audited. Every path that asks
    (existingOrganization, availableServices, requestTrialForExistingCustomer) comes through here, and
    the count and the audit event stay when the caller's transaction is refused (`server.kept`)."""
    permissions.require(actor, Action.START_TRIAL)
    email = normalize_email(admin_email, "adminEmail")
    if not await _count_lookup(db, actor, email):
        raise DomainError(ErrorCode.RATE_LIMITED, "Too many organization look-ups; try again in an hour.",
                          "adminEmail")
    org = await find_org_by_email(db, email)
    org_id = org.id if org else None  # read now: after a rollback the row is expired

    def record(session: AsyncSession) -> None:
        audit.record(session, actor, "organization.lookup", "Customer", org_id,
                     after={"email": email, "found": org_id is not None})

    async def again(session: AsyncSession) -> None:
        await _count_lookup(session, actor, email)
        record(session)

    record(db)
    kept.keep(db, again)
    return org


AUDIT_LIMIT = 200


async def audit_events(db: AsyncSession, actor: Actor, customer_id: int | None,
                       limit: int = AUDIT_LIMIT) -> list[AuditEvent]:
    """A customer's audit trail as this partner sees it: its own events and the platform's."""
    customer = await visibility.get_customer(db, actor, customer_id)
    stmt = select(AuditEvent).where(AuditEvent.customer_id == customer.id, audit_scope(actor))
    return list(await db.scalars(stmt.order_by(*audit_order()).limit(limit)))


def audit_scope(actor: Actor, event=AuditEvent):
    """SQL condition on AuditEvent (or an alias's columns, `event`): a partner sees its own events and
    the platform's (those only of a customer whose details it reads, R-EX-01); everyone else who
    reaches the customer sees all of them."""
    if actor.is_partner:
        customer = CustomerOrg.__table__.alias()
        detailed = exists(select(customer.c.id).where(customer.c.id == event.customer_id,
                                                      visibility.details_condition(actor, customer)))
        return or_(event.partner_id == actor.partner_id, and_(event.partner_id.is_(None), detailed))
    return true()


def audit_order(event=AuditEvent) -> list:
    """A customer's audit trail's order: newest first."""
    return [event.at.desc(), event.id.desc()]


async def customer_admins(db: AsyncSession, customer_id: int) -> list[CustomerUser]:
    """R-ROLE-04: FULL_ADMIN and ADMIN users of the org (still in it)."""
    return list(await db.scalars(select(CustomerUser).where(
        CustomerUser.customer_id == customer_id, CustomerUser.moved_to_consumer_at.is_(None),
        CustomerUser.role.in_([CustomerRole.FULL_ADMIN.value, CustomerRole.ADMIN.value])).order_by(CustomerUser.id)))
