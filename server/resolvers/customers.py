"""Queries: customers (connection), customer, trial, availableServices, existingOrganization,
auditEvents. Reads go through the domain with the viewer's tenant scope; relations via loaders."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import strawberry
from sqlalchemy import BigInteger, bindparam, nulls_last, select
from strawberry.types import Info

from server import loaders
from server.domain.trials import availability
from server.domain.orgs import customers
from server.domain.core import audit_actors
from server.domain.core import visibility
from server.db.models import AuditEvent as AuditEventRow
from server.db.models import CustomerOrg
from server.db.models import Trial as TrialRow
from server.domain.core.errors import DomainError, not_found
from server.planner import declare as plan
from server.planner import calls, roots
from server.resolvers import cursors, customer_page
from server.resolvers.answer import as_graphql_error
from server.schema import columns
from server.schema.enums import ProvisioningStatus, SubscriptionStatus
from server.schema.node import decode_id
from server.schema.permissions import IsAuthenticated
from server.schema.types.catalog import AuditEvent, ExistingOrganization, ServiceAvailability
from server.schema.types.customers import Customer, CustomerConnection, CustomerEdge, CustomerOrder, PageInfo
from server.schema.types.trials import Trial
from server.schema.types.usage import AdoptionHealth

AUTH = [IsAuthenticated]


def cursor_of(order: customers.CustomerOrder, row) -> str:
    """Opaque keyset cursor: the list's order, the row's sort key and its id (server.domain.orgs.customers.Position)."""
    key = row.sort_key.isoformat() if isinstance(row.sort_key, datetime) else row.sort_key
    return cursors.write(order.value, key, row.id)


def position_of(cursor: str | None, order: customers.CustomerOrder) -> customers.Position | None:
    if not cursor:
        return None
    found = cursors.read(cursor, order.value)
    if found is not None:
        key, pk = found
        key_types = (int,) if order is customers.CustomerOrder.ADOPTION else (str,)
        if key is None or (isinstance(key, key_types) and not isinstance(key, bool)):
            if order is not customers.CustomerOrder.DAYS_LEFT or key is None:
                return customers.Position(key=key, id=pk)
            try:
                moment = datetime.fromisoformat(key)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is not None:
                return customers.Position(key=moment, id=pk)
    raise cursors.not_ours("list")


async def _count(info: Info, where: customers.CustomerFilter) -> int:
    async with loaders.read(info.context) as db:
        return await customers.count_customers(db, info.context.actor, where)


@strawberry.type
class CustomerQuery:
    @strawberry.field(permission_classes=AUTH, description="Your customers (R-ORG-02), at most 100 a page.")
    async def customers(self, info: Info, first: int | None = 25, after: str | None = None, search: str | None = None,
                        status: SubscriptionStatus | None = None,
                        provisioning_status: ProvisioningStatus | None = None,
                        expiring_within_days: int | None = None,
                        order_by: CustomerOrder = CustomerOrder.NAME,
                        adoption: AdoptionHealth | None = None) -> CustomerConnection:
        actor = info.context.actor
        where = customers.CustomerFilter(search=search, status=status.value if status else None,
                                         provisioning_status=provisioning_status.value if provisioning_status else None,
                                         expiring_within_days=expiring_within_days,
                                         adoption=adoption.value if adoption else None)
        order = customers.CustomerOrder(order_by.value)
        position = position_of(after, order)
        try:
            async with loaders.read(info.context) as db:
                rows, has_next = await customers.list_customers(db, actor, where, first=25 if first is None else first,
                                                                after=position, order=order)
        except DomainError as error:
            raise await as_graphql_error(info, error, "customers")
        nodes = await customer_page.customers(info, rows)
        edges = [CustomerEdge(cursor=cursor_of(order, row), node=node) for row, node in zip(rows, nodes, strict=True)]
        return CustomerConnection(edges=edges, page_info=PageInfo(has_next_page=has_next,
                                                                  end_cursor=edges[-1].cursor if edges else None),
                                  _count=lambda: _count(info, where))

    @strawberry.field(permission_classes=AUTH)
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        pk = decode_id(str(id), "Customer")
        return await Customer.load(info, pk) if pk is not None else None

    @strawberry.field(permission_classes=AUTH)
    async def trial(self, info: Info, id: strawberry.ID) -> Trial | None:
        pk = decode_id(str(id), "Trial")
        return await Trial.load(info, pk) if pk is not None else None

    @strawberry.field(permission_classes=AUTH, description="R-SVC-06 / R-EX-02: which services may still be tried, "
                      "and why not.")
    async def available_services(self, info: Info, customer_id: strawberry.ID | None = None,
                                 admin_email: str | None = None) -> list[ServiceAvailability]:
        try:
            return await available_services(info.context, customer_id, admin_email)
        except DomainError as error:
            raise await as_graphql_error(info, error, "availableServices")

    @strawberry.field(permission_classes=AUTH, description="Confirmation step of the existing-customer flow: name "
                      "and country only, or null (R-EX-01: sales roles only, rate-limited, audited).")
    async def existing_organization(self, info: Info, admin_email: str) -> ExistingOrganization | None:
        try:
            return await existing_organization(info.context, admin_email)
        except DomainError as error:
            raise await as_graphql_error(info, error, "existingOrganization")

    @strawberry.field(permission_classes=AUTH, description="A customer's audit trail (SPEC §9), newest first.")
    async def audit_events(self, info: Info, customer_id: strawberry.ID) -> list[AuditEvent]:
        try:
            async with loaders.read(info.context) as db:
                rows = await customers.audit_events(db, info.context.actor, decode_id(str(customer_id), "Customer"))
                who = await audit_actors.of_labels(db, [r.actor for r in rows])
        except DomainError as error:
            raise await as_graphql_error(info, error, "auditEvents")
        return [AuditEvent(**columns.values(AuditEvent, r, actor_kind=who[r.actor].kind, actor_name=who[r.actor].name,
                                            actor_role=who[r.actor].role)) for r in rows]



async def available_services(context, customer_id: Any, admin_email: str | None) -> list[ServiceAvailability]:
    """availableServices (R-SVC-06 / R-EX-02; by adminEmail the R-EX-01 look-up: rate-limited, audited), in one
    unit of work: the resolver's and the planner's (calls.Call) one implementation; raises the DomainError."""
    actor = context.actor
    async with context.unit_of_work() as db:
        target, detailed = None, True
        if customer_id is not None:
            target = (await visibility.get_customer(db, actor, decode_id(str(customer_id), "Customer"))).id
            detailed = await visibility.reads_details(db, actor, target)  # R-EX-01
        elif admin_email is not None:
            org = await customers.lookup_existing_org(db, actor, admin_email)
            target = org.id if org else None
            detailed = org is not None and org.managing_partner_id == actor.partner_id
        result = await availability.for_customer(db, target, actor.partner_id, detailed)
    return _available(result)


def _available(result: list[availability.Availability]) -> list[ServiceAvailability]:
    return [ServiceAvailability(type=a.service, available=a.available, reason=a.reason) for a in result]


async def existing_organization(context, admin_email: str) -> ExistingOrganization | None:
    """existingOrganization (R-EX-01: sales roles only, rate-limited, audited), in one unit of work: the resolver's
    and the planner's (calls.Call) one implementation; raises the DomainError."""
    async with context.unit_of_work() as db:
        org = await customers.lookup_existing_org(db, context.actor, admin_email)
    return ExistingOrganization(name=org.name, country=org.country) if org else None


# What the planner reads for these fields (server.planner): the resolvers' domain calls, as SQL.
def _where(args: dict[str, Any], actor) -> tuple:
    """The resolver's reading of `customers(...)`: (filter, first, position, order); raises what it raises."""
    status, provisioning, health = args.get("status"), args.get("provisioningStatus"), args.get("adoption")
    where = customers.CustomerFilter(search=args.get("search"), status=status.value if status else None,
                                     provisioning_status=provisioning.value if provisioning else None,
                                     expiring_within_days=args.get("expiringWithinDays"),
                                     adoption=health.value if health else None)
    order = customers.CustomerOrder(args["orderBy"].value)
    first = 25 if args.get("first") is None else args["first"]
    return where, first, position_of(args.get("after"), order), order


class _Row(NamedTuple):  # what cursor_of reads of a page row
    id: int
    sort_key: Any


@lru_cache(maxsize=16)
def _order_of(order: Any) -> customers.CustomerOrder:
    """The domain's order of the argument's enum member (once, not once per row's cursor)."""
    return customers.CustomerOrder(order.value)


@lru_cache(maxsize=1 << 14)
def _cursor(order: customers.CustomerOrder, pk: int, key: Any) -> str:
    return cursor_of(order, _Row(pk, key))


plan.plannable("CustomerConnection", edges=plan.ByRoot(), pageInfo=plan.ByRoot(), totalCount=plan.ByRoot())
plan.plannable("CustomerEdge", cursor=plan.ByRoot(), node=plan.ByRoot())
plan.plannable("PageInfo", hasNextPage=plan.ByRoot(), endCursor=plan.ByRoot())
plan.root("customers", roots.Connection(
    "Customer", "CustomerEdge", "CustomerConnection",
    where=_where,
    shape=lambda w: customers.shape(w[0], w[2], w[3]),
    params=lambda w, now, prefix: customers.parameters(w[0], now=now, first=w[1], after=w[2], prefix=prefix,
                                                       order=w[3]),
    page=lambda actor, w, prefix: customers.page_statement(actor, w[0], after=w[2] is not None, order=w[3],
                                                           prefix=prefix),
    count=lambda actor, w, prefix: customers.count_statement(actor, w[0], prefix=prefix),
    order=lambda page, w: ([nulls_last(page.c.sort_key.asc()), page.c.id] if w[3] in customers.NULLS_LAST
                           else [page.c.sort_key, page.c.id]),
    cursor=lambda args, pk, key: _cursor(_order_of(args["orderBy"]), pk, key),
    first=lambda args: 25 if args.get("first") is None else args["first"],
    timed=lambda args: args["orderBy"].value == customers.CustomerOrder.DAYS_LEFT.value,
))
plan.root("customer", roots.ById("Customer", CustomerOrg, visibility.customer_condition))
plan.root("trial", roots.ById("Trial", TrialRow, visibility.trial_reach))
plan.root("auditEvents", roots.ChildrenOf(
    "AuditEvent", "Customer", "customerId",
    visible=lambda actor, pk: select(CustomerOrg.id).where(CustomerOrg.id == pk, visibility.customer_condition(actor)),
    rows=lambda actor, pk: (select(AuditEventRow).where(AuditEventRow.customer_id == pk, customers.audit_scope(actor))
                            .order_by(*customers.audit_order()).limit(customers.AUDIT_LIMIT)),
    order=customers.audit_order, missing=visibility.missing_customer))
# availableServices and existingOrganization: the resolvers' own functions, called by the planner (calls.Call).
plan.plannable("ServiceAvailability", type=plan.ByRoot(), available=plan.ByRoot(), reason=plan.ByRoot())
plan.plannable("ExistingOrganization", name=plan.ByRoot(), country=plan.ByRoot())


class AvailableServicesRoot(calls.Call):
    """availableServices by customerId: `availability.statement`'s reads in the planner's statement, decided by
    `availability.decide` (the rule `for_customer` applies to its own reads); a customer out of reach is
    get_customer's NOT_FOUND (answered as the resolver answers it). By adminEmail (R-EX-01's look-up,
    rate-limited and audited: it writes) the resolver's own function, called (calls.Call). With neither,
    every service, without a read."""

    def __init__(self) -> None:
        super().__init__("ServiceAvailability", lambda context, args: available_services(context, None,
                                                                                         args["adminEmail"]), many=True)

    @staticmethod
    def mode(args: dict) -> str:
        return "customer" if args.get("customerId") is not None else "email" if args.get("adminEmail") is not None \
            else "none"

    def read(self, args: dict, env: Any, prefix: str) -> tuple:
        mode = self.mode(args)
        if mode != "customer":
            return (mode,), {}
        pk = roots.pk_of(args["customerId"], lambda text: decode_id(text, "Customer"))
        if pk is None:
            raise not_found("customer", "customerId")  # get_customer's NOT_FOUND
        return (mode,), {f"{prefix}customer": pk}

    def reads(self, args: dict | None) -> bool:
        return args is None or self.mode(args) != "none"

    def compile(self, compiler: Any, planned: Any, prefix: str):
        mode = self.mode(planned.args)
        if mode == "email":
            return super().compile(compiler, planned, prefix)
        pick = compiler.picker(self.type_name, planned.nodes)
        if mode == "none":
            every = availability.decide((), {}, None, True)
            return [], lambda values, env: [pick(item) for item in _available(every)]
        exprs = availability.statement(compiler.actor, bindparam(f"{prefix}customer", type_=BigInteger))

        def shape(values: list, env: Any) -> list:
            reach, details, purchased, held = values
            if not reach:
                raise not_found("customer", "customerId")  # get_customer's NOT_FOUND
            found = availability.decide(purchased, dict(held), env.actor.partner_id, details)
            return [pick(item) for item in _available(found)]
        return exprs, shape


plan.root("availableServices", AvailableServicesRoot())
plan.root("existingOrganization", calls.Call("ExistingOrganization", lambda context, args: existing_organization(
    context, args["adminEmail"])))
