"""Customer and the customers connection (API.graphql). Relations come from per-request loaders."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import strawberry
from sqlalchemy import func, null, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from strawberry.types import Info

from server import loaders
from server.db import relations
from server.db.models import CustomerOrg, PartnerAccessGrant, PurchasedService
from server.db.models import Trial as TrialRow
from server.domain.orgs import customers as customers_domain
from server.domain.trials import status
from server.domain.core import visibility
from server.planner import declare as plan
from server.schema import columns
from server.schema.enums import DataRegion, PartnerAccess, ProvisioningStatus, ServiceType, SubscriptionStatus
from server.schema.node import Node, to_global_id
from server.schema.types.calling import Location
from server.schema.types.organizations import Partner
from server.schema.types.trials import Trial

#: A relation not read ahead (None is a value: no access, no managing partner).
UNKNOWN: Any = object()


@strawberry.type
class Customer(Node):
    """Relations are either read ahead for a whole page (`server.resolvers.customer_page`: plain
    values, resolved synchronously) or loaded on demand through the per-request loaders. Their
    resolvers are sync and return the value, or an awaitable when it must be loaded: an async
    resolver per field and row costs a coroutine, a task and strawberry's async wrapper each."""
    name: str
    country: str
    region: DataRegion
    business_vertical: str
    admin_email: str
    provisioning_status: ProvisioningStatus
    _row: strawberry.Private[Any]  # CustomerOrg or a Core row of customer_orgs
    _trials: strawberry.Private[list[Trial] | None] = None
    _status: strawberry.Private[SubscriptionStatus | None] = None
    _access: strawberry.Private[PartnerAccess | None | object] = UNKNOWN
    _purchased: strawberry.Private[list[ServiceType] | None] = None
    _partner: strawberry.Private[Partner | None | object] = UNKNOWN
    #: R-EX-01: the viewer reads more than name and country (`visibility.customer_view`'s `details`).
    _details: strawberry.Private[bool] = True

    async def _trial_rows(self, info: Info) -> list:
        return await loaders.load(info, "trials_by_customer", loaders.trials_by_customer, self._row.id)

    @strawberry.field(description="R-NEW-04: why provisioning failed (UNABLE_TO_PROVISION), else null.")
    def provisioning_error(self) -> str | None:
        return self._row.provisioning_error

    @strawberry.field(description="R-TIME-07, derived from the trials you see (server.domain.trials.status).")
    def subscription_status(self, info: Info) -> SubscriptionStatus:
        if self._status is not None:
            return self._status
        return self._load_status(info)

    async def _load_status(self, info: Info) -> SubscriptionStatus:
        return SubscriptionStatus(status.derive(self._row.subscription_status, await self._trial_rows(info)))

    @strawberry.field(description="R-ROLE-03: your partner's access on this org (a customer admin: the managing "
                                  "partner's, R-EX-04).")
    def partner_access(self, info: Info) -> PartnerAccess | None:
        if self._access is not UNKNOWN:
            return self._access
        if visibility.access_condition(info.context.actor) is None:
            return None
        return self._load_access(info)

    async def _load_access(self, info: Info) -> PartnerAccess | None:
        grant = await loaders.load(info, "access_by_customer", loaders.access_by_customer, self._row.id)
        return PartnerAccess(grant.access) if grant else None

    @strawberry.field
    def purchased_services(self, info: Info) -> list[ServiceType]:
        if self._purchased is not None:
            return self._purchased
        if not self._details:
            return []
        return self._load_purchased(info)

    async def _load_purchased(self, info: Info) -> list[ServiceType]:
        rows = await loaders.load(info, "purchased_by_customer", loaders.purchased_by_customer, self._row.id)
        return [ServiceType(r.service) for r in rows]

    @strawberry.field
    def managing_partner(self, info: Info) -> Partner | None:
        if self._partner is not UNKNOWN:
            return self._partner
        if self._row.managing_partner_id is None:
            return None
        return self._load_partner(info)

    async def _load_partner(self, info: Info) -> Partner | None:
        row = await loaders.load(info, "partners", loaders.partners, self._row.managing_partner_id)
        return Partner.from_row(row) if row else None

    @strawberry.field(description="The trials you see: your partner's (or, for a customer admin, all of the org's).")
    def trials(self, info: Info) -> list[Trial]:
        if self._trials is not None:
            return self._trials
        return self._load_trials(info)

    async def _load_trials(self, info: Info) -> list[Trial]:
        return [Trial.from_row(r) for r in await self._trial_rows(info)]

    @strawberry.field
    async def locations(self, info: Info) -> list[Location]:
        if not self._details:
            return []
        rows = await loaders.load(info, "locations_by_customer", loaders.locations_by_customer, self._row.id)
        return [Location.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: Any, **read_ahead: Any) -> "Customer":
        """`read_ahead`: the private relation values a page read for this customer. `row`: a row of
        `visibility.customer_columns` (masked for the viewer), or the ORM object of a customer the
        viewer just started a trial for (its managing partner: all details)."""
        details = bool(row.details) if hasattr(row, "details") else True
        return cls(**columns.values(cls, row, _details=details, id=to_global_id("Customer", row.id), _row=row,
                                    **read_ahead))

    @classmethod
    async def load(cls, info: Info, pk: int) -> "Customer | None":
        row = await loaders.load(info, "customers", loaders.customers, pk)
        return cls.from_row(row) if row is not None else None


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    _count: strawberry.Private[object]

    @strawberry.field(description="All customers matching the filters (one COUNT, only when asked).")
    async def total_count(self) -> int:
        return await self._count()


CustomerOrder = strawberry.enum(customers_domain.CustomerOrder, name="CustomerOrder")


# What the planner reads for these fields (server.planner.declare): the plain column fields derived from
# the attributes (server.schema.columns, the R-EX-01 masked ones read as the viewer sees them); the
# same rows, scope and order as the loaders above, the derived status from the same domain function.
class _TrialState(NamedTuple):  # what status.derive reads of a trial
    state: str
    ends_at: Any


def _visible_trials(source, parent, actor):
    trial = TrialRow.__table__.alias()
    return (select(func.coalesce(func.json_agg(func.json_build_array(trial.c.state, plan.utc_text(trial.c.ends_at))),
                                 text("'[]'::json")))
            .where(trial.c.customer_id == source.c.id, visibility.trial_condition(actor, trial.c)).scalar_subquery())


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _subscription_status(env, stored: str, trials: list) -> str:
    """`status.derive` over the visible trials; it reads a trial's state and days left only, so the
    answer is remembered by those (a page of 50 customers recomputes none of it on the next call)."""
    return _derived(stored, tuple((s, status.days_left(plan.parse_time(e), env.now)) for s, e in trials))


@lru_cache(maxsize=4096)
def _derived(stored: str, trials: tuple) -> str:
    return status.derive(stored, [_TrialState(state, None if days is None else _EPOCH + timedelta(days=days))
                                  for state, days in trials], _EPOCH).value


def _access(source, parent, actor):
    reads = visibility.access_condition(actor)
    if reads is None:
        return null()
    return (select(PartnerAccessGrant.access).where(PartnerAccessGrant.customer_id == source.c.id, reads)
            .scalar_subquery())


def _purchased(source, parent, actor):
    return (select(func.coalesce(func.json_agg(aggregate_order_by(PurchasedService.service, PurchasedService.service)),
                                 text("'[]'::json")))
            .where(PurchasedService.customer_id == source.c.id, _details(source, parent, actor)).scalar_subquery())


def _details(source, parent, actor):
    """R-EX-01: what a pending consent request's partner may not read (visibility.customer_view)."""
    return visibility.customer_view(actor, source)["details"]


def _viewed(name: str):
    """A column of the customer's row as the viewer reads it (masked, R-EX-01)."""
    return plan.Derived(lambda env, value: value, plan.Input(lambda source, parent, actor:
                                                             visibility.customer_view(actor, source)[name]))


plan.declare(
    Customer, CustomerOrg,
    adminEmail=_viewed("admin_email"), provisioningError=_viewed("provisioning_error"),
    subscriptionStatus=plan.Derived(_subscription_status, "subscription_status", plan.Input(_visible_trials)),
    partnerAccess=plan.Derived(lambda env, access: access, plan.Input(_access)),
    purchasedServices=plan.Derived(lambda env, services: services, plan.Input(_purchased)),
    managingPartner=plan.related("Partner", relations.CUSTOMER_MANAGING_PARTNER, many=False, shown=_details),
    trials=plan.related("Trial", relations.CUSTOMER_TRIALS,
                        scope=lambda actor, trial: visibility.trial_condition(actor, trial.c)),
    locations=plan.related("Location", relations.CUSTOMER_LOCATIONS, shown=_details),
)
