"""Read-ahead for a customers page (DESIGN "Python's costs, measured"): the relations the query
selects below `edges.node` are read for the whole page at once, one query each, as Core rows, and
the Customer/Trial/Service objects are built with them as plain values. The page then resolves
without a coroutine, DataLoader future or task per row and field, and the clock is read once.

Same statements (and tenant scope) as the per-request loaders: `server.loaders.*_of`. A relation
that is not read ahead still resolves on demand, so the look-ahead decides the cost, never the
answer: `@skip`/`@include` are not evaluated (a skipped relation costs one query for the page).
"""
from __future__ import annotations

from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode
from strawberry.types import Info

from server import clock, loaders
from server.domain.trials import status
from server.domain.core import visibility
from server.schema.enums import PartnerAccess, ServiceType, SubscriptionStatus
from server.schema.types.customers import Customer
from server.schema.types.devices import Shipment
from server.schema.types.organizations import Partner
from server.schema.types.trials import Service, Trial


def _fields(selection_sets: list, fragments: dict) -> dict[str, list]:
    """Field name → the selection sets below it (aliases merged, fragments followed)."""
    found: dict[str, list] = {}
    for selection_set in selection_sets:
        if selection_set is None:
            continue
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                found.setdefault(node.name.value, []).append(node.selection_set)
            elif isinstance(node, InlineFragmentNode):
                for name, sets in _fields([node.selection_set], fragments).items():
                    found.setdefault(name, []).extend(sets)
            elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
                for name, sets in _fields([fragments[node.name.value].selection_set], fragments).items():
                    found.setdefault(name, []).extend(sets)
    return found


def selection(info: Info, *path: str) -> dict[str, list]:
    """The fields selected at `path` below the current field, e.g. `selection(info, "edges", "node")`."""
    raw = info._raw_info  # graphql-core's resolve info: the field's AST nodes and the fragments
    sets = [node.selection_set for node in raw.field_nodes]
    for name in path:
        sets = _fields(sets, raw.fragments).get(name, [])
    return _fields(sets, raw.fragments)


async def customers(info: Info, rows: list) -> list[Customer]:
    """Customer objects for the page's rows (Core rows of customer_orgs, in page order)."""
    if not rows:
        return []
    ctx, actor = info.context, info.context.actor
    wanted = selection(info, "edges", "node")
    trial_wanted = _fields(wanted.get("trials", []), info._raw_info.fragments)
    ids = [row.id for row in rows]
    now = clock.now()

    trials: dict[int, list] | None = None
    services: dict[int, list] | None = None
    shipments: dict[int, list] | None = None
    if "trials" in wanted or "subscriptionStatus" in wanted:
        trials = await loaders.grouped(ctx, loaders.trials_of(actor), "customer_id", ids)
        trial_ids = [t.id for group in trials.values() for t in group]
        if "services" in trial_wanted:
            services = await loaders.grouped(ctx, loaders.services_of, "trial_id", trial_ids) if trial_ids else {}
        if "shipments" in trial_wanted:
            shipments = await loaders.grouped(ctx, loaders.shipments_of, "trial_id", trial_ids) if trial_ids else {}
    purchased = None
    if "purchasedServices" in wanted:
        purchased = await loaders.grouped(ctx, loaders.purchased_of, "customer_id", ids)
    partners = None
    if "managingPartner" in wanted:
        partner_ids = list({row.managing_partner_id for row in rows if row.managing_partner_id is not None})
        found = await loaders.by_key(ctx, loaders.partners_of, partner_ids) if partner_ids else {}
        partners = {pk: Partner.from_row(row) for pk, row in found.items()}
    access = None
    if "partnerAccess" in wanted:
        reads = visibility.access_condition(actor)
        access = await loaders.by_key(ctx, loaders.access_of(reads), ids, "customer_id") if reads is not None else {}

    page = []
    for row in rows:
        read_ahead: dict[str, Any] = {}
        if trials is not None:
            trial_rows = trials.get(row.id, [])
            read_ahead["_status"] = SubscriptionStatus(status.derive(row.subscription_status, trial_rows, now))
        if purchased is not None:  # R-EX-01: none for a pending request's customer (row.details)
            read_ahead["_purchased"] = [ServiceType(r.service) for r in purchased.get(row.id, [])] if row.details else []
        if partners is not None:
            read_ahead["_partner"] = partners.get(row.managing_partner_id)
        if access is not None:
            grant = access.get(row.id)
            read_ahead["_access"] = PartnerAccess(grant.access) if grant else None
        customer = Customer.from_row(row, **read_ahead)
        if trials is not None and "trials" in wanted:
            customer._trials = [_trial(t, now, customer, services, shipments) for t in trials.get(row.id, [])]
        page.append(customer)
    return page


def _trial(row: Any, now, customer: Customer, services: dict | None, shipments: dict | None) -> Trial:
    read_ahead: dict[str, Any] = {"_customer": customer}
    if services is not None:
        read_ahead["_services"] = [Service.from_row(s, row.state) for s in services.get(row.id, [])]
    if shipments is not None:
        read_ahead["_shipments"] = [Shipment.from_row(s) for s in shipments.get(row.id, [])]
    return Trial.from_row(row, now, **read_ahead)
