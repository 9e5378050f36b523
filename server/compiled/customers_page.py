"""Compiled `CustomersPage` (web/operations/CustomersPage.graphql) on PostgreSQL: one statement.

    WITH page AS (<customers.page_statement: the domain's scope, search, status filter, keyset>)
    SELECT (<customers.count_statement>)                      -- totalCount
         , (SELECT json_agg(customer row + its trials (visibility.trial_condition)
                            + their services and shipments, in page order) FROM page)
         , (SELECT name FROM partner_orgs WHERE id = :partner)  -- viewer.partner

Every WHERE clause comes from the domain builders the reference resolvers use; derived fields
(`subscriptionStatus`, `daysLeft`, the `expired` tag), cursors and global IDs are computed in
Python by the same functions as the reference path (`server.domain.status`, `cursor_of`,
`to_global_id`), with one clock reading. Whatever it does not handle (a bad cursor, `first` out of
range, no reach, a signed-out actor, unexpected variable types) goes to the reference path, which
answers the error exactly as before.

CPU per call (in-process A/B, load average ~10 on 2 cores): 1.96 → ~1.0 ms for 50 customers,
1.28 → ~0.55 ms for 10, once the first page's SQL text goes to the driver (`compiled.Prepared`),
the JSON comes back as text for orjson, and global IDs and cursors are remembered; the reference
path costs ~19 ms and ~10 ms (bench.customers' docstring has the whole account).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from graphql import GraphQLError
from sqlalchemy import Text, cast, false, func, literal, null, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from server import clock, compiled
from server.db.models.devices import Shipment
from server.db.models.organizations import PartnerOrg
from server.db.models.trials import Trial, TrialService
from server.domain import customers, permissions, status, visibility
from server.domain.actor import ActorKind
from server.domain.errors import DomainError
from server.domain.permissions import Action
from server.enums import SubscriptionStatus
from server.resolvers.customers import cursor_of, position_of

DOCUMENT_SHA256 = "c61aa93e2d805b85290ed89886ee152f9c9c1af1707b4cc22121143c2c9fd678"
ORDER = customers.CustomerOrder.NAME  # the document has no orderBy
EMPTY = text("'[]'::json")
UTC_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS.US'


class _Trial(NamedTuple):  # what status.derive reads of a trial
    state: str
    ends_at: datetime | None


class _Row(NamedTuple):  # what cursor_of reads of a page row
    id: int
    sort_key: Any


def _variables(variables: dict[str, Any]) -> tuple[customers.CustomerFilter, int, str | None] | None:
    search, state, after, first = (variables.get(k) for k in ("search", "status", "after", "first"))
    if first is None:
        first = 25  # `$first: Int = 25`; an explicit null reaches the resolver's own default, 25
    if (not isinstance(first, int) or isinstance(first, bool) or not (search is None or isinstance(search, str))
            or not (after is None or isinstance(after, str))
            or not (state is None or state in SubscriptionStatus.__members__)):
        return None
    return customers.CustomerFilter(search=search, status=SubscriptionStatus[state].value if state else None), first, after


def statement(actor, where: customers.CustomerFilter, first: int, position: customers.Position | None):
    page = customers.page_statement(actor, where, first=first, after=position, order=ORDER).cte("page")
    ends = func.to_char(func.timezone("UTC", Trial.ends_at), UTC_TEXT)
    # The answer's objects come from PostgreSQL with their keys in the document's order (orjson keeps
    # it); Python then fills in what the domain derives (IDs, dates, days left, statuses, `expired`)
    # over the placeholders, in place: no per-row dict building in Python.
    services = (select(func.coalesce(func.json_agg(aggregate_order_by(
        func.json_build_object("type", TrialService.service, "expired", false()), TrialService.id)), EMPTY))
        .where(TrialService.trial_id == Trial.id, TrialService.removed_at.is_(None)).scalar_subquery())
    shipments = (select(func.coalesce(func.json_agg(aggregate_order_by(
        func.json_build_object("deviceType", Shipment.device_type, "status", Shipment.status), Shipment.id)), EMPTY))
        .where(Shipment.trial_id == Trial.id).scalar_subquery())
    trials = (select(func.coalesce(func.json_agg(aggregate_order_by(func.json_build_object(
        "id", Trial.id, "state", Trial.state, "daysLeft", null(), "endsAt", ends, "services", services,
        "shipments", shipments), Trial.id)), EMPTY))
        .where(Trial.customer_id == page.c.id, visibility.trial_condition(actor)).scalar_subquery())
    node = func.json_build_object(
        "id", page.c.id, "name", page.c.name, "country", page.c.country, "region", page.c.region,
        "adminEmail", page.c.admin_email, "provisioningStatus", page.c.provisioning_status,
        "subscriptionStatus", page.c.subscription_status, "trials", trials)
    row = func.json_build_array(page.c.id, page.c.sort_key, node)
    rows = select(cast(func.json_agg(aggregate_order_by(row, page.c.sort_key, page.c.id)), Text)  # text: orjson reads it
                  ).select_from(page).scalar_subquery()
    partner = (select(PartnerOrg.name).where(PartnerOrg.id == actor.partner_id).scalar_subquery()
               if actor.partner_id is not None else literal(None))
    return select(customers.count_statement(actor, where).scalar_subquery(), rows, partner)


@lru_cache(maxsize=1024)
def _timeless_statement(actor, search: str | None, first: int, position: customers.Position | None):
    built = statement(actor, customers.CustomerFilter(search=search), first, position)
    # The first page without a search is the hot one: its SQL text is compiled once for the driver
    # (~5 ms, once per actor). Searches and later pages run through SQLAlchemy, whose compiled cache
    # serves every search value and cursor position of the same shape.
    return compiled.Prepared(built) if search is None and position is None else built


@lru_cache(maxsize=1 << 14)
def _cursor(pk: int, key: Any) -> str:
    """`cursor_of` for a row of this list, remembered like the global IDs (the same rows recur)."""
    return cursor_of(ORDER, _Row(pk, key))


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value is not None else None


@lru_cache(maxsize=1 << 14)
def _trial(tid: int, state: str, ends: str | None) -> tuple[str, datetime | None, str | None, bool]:
    """What of a trial row does not move with the clock, remembered (the same trials recur page after
    page): (global ID, ends_at, `endsAt`, the services' `expired` tag)."""
    at = _time(ends)
    return (compiled.global_id("Trial", tid), at, at.isoformat() if at is not None else None,
            status.service_expired(state))


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=4096)
def _status(stored: str, trials: tuple[tuple[str, int | None], ...]) -> str:
    """`status.derive` of a customer from its trials' (state, days left): derive reads nothing else of a
    trial (its days left, through ends_at), so the answer is the same for an ends_at that many whole days
    after a fixed instant, and it is remembered by those few values."""
    return status.derive(stored, [_Trial(state, None if days is None else _EPOCH + timedelta(days=days))
                                  for state, days in trials], _EPOCH).value


async def run(context: Any, variables: dict[str, Any]) -> dict[str, Any] | None:
    actor = context.actor
    parsed = _variables(variables or {})
    if parsed is None or actor.kind is ActorKind.ANONYMOUS or permissions.scope(actor, Action.VIEW) is None:
        return None
    where, first, after = parsed
    try:
        position = position_of(after, ORDER)
        # Building the Core construct costs ~1 ms of CPU; without a status filter it does not read
        # the clock, so it is kept per (actor, search, first, position): the hot first pages.
        stmt = (statement(actor, where, first, position) if where.status is not None
                else _timeless_statement(actor, where.search, first, position))
    except (GraphQLError, DomainError):
        return None
    total, rows, partner_name = await compiled.one_row(context, stmt)
    rows = orjson.loads(rows) if rows is not None else []
    now = clock.now()
    edges = []
    days_left = status.days_left
    for cid, key, node in rows[:first]:
        node["id"] = compiled.global_id("Customer", cid)
        derived = []
        for trial in node["trials"]:
            trial["id"], at, trial["endsAt"], expired = _trial(trial["id"], trial["state"], trial["endsAt"])
            trial["daysLeft"] = days = days_left(at, now)
            if expired:
                for service in trial["services"]:
                    service["expired"] = True
            derived.append((trial["state"], days))
        node["subscriptionStatus"] = _status(node["subscriptionStatus"], tuple(derived))
        edges.append({"cursor": _cursor(cid, key), "node": node})
    return {
        "viewer": {"email": actor.email or "", "roles": [r.value for r in sorted(actor.roles)],
                   "partner": {"name": partner_name} if partner_name is not None else None},
        "customers": {"totalCount": int(total),
                      "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None},
                      "edges": edges},
    }
