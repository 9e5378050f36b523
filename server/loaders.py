"""Per-request DataLoaders (DESIGN "Per-request context"): every relation the customers list shows
is one query per page, not one per row. Each loader applies the actor's tenant scope. They read
Core rows (SQLAlchemy `Row`s: attribute access by column name, no ORM identity map or instance
state), which costs a fraction of an ORM entity per row (bench.customers).

    await info.context.loader("trials_by_customer", trials_by_customer).load(customer_id)
"""
from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from server.db.models import (
    CustomerOrg, DeviceExtensionRequest, Location, PartnerAccessGrant, PartnerOrg, PurchasedService, Shipment, Trial,
    TrialService,
)
from server.domain import visibility


@asynccontextmanager
async def read(ctx) -> AsyncIterator:
    """The request's read session, one user at a time: GraphQL resolves sibling fields concurrently
    and an AsyncSession must not run two statements at once."""
    lock = ctx.__dict__.setdefault("_read_lock", asyncio.Lock())
    async with lock:
        yield await ctx.db()


async def grouped(ctx, stmt, attr: str) -> dict[int, list]:
    """Core rows of `stmt` (tuples with attribute access, no ORM identity map) grouped by `attr`."""
    groups: dict[int, list] = defaultdict(list)
    async with read(ctx) as db:
        for row in (await db.execute(stmt)).all():
            groups[getattr(row, attr)].append(row)
    return groups


async def by_key(ctx, stmt, attr: str = "id") -> dict[int, Any]:
    async with read(ctx) as db:
        return {getattr(row, attr): row for row in (await db.execute(stmt)).all()}


def _grouped(ctx, build: Callable[[list], Any], attr: str) -> DataLoader:
    async def load(keys: Sequence[int]) -> list[list]:
        groups = await grouped(ctx, build(list(keys)), attr)
        return [groups.get(k, []) for k in keys]
    return DataLoader(load_fn=load)


def _by_id(ctx, build: Callable[[list], Any], attr: str = "id") -> DataLoader:
    async def load(keys: Sequence[int]) -> list:
        found = await by_key(ctx, build(list(keys)), attr)
        return [found.get(k) for k in keys]
    return DataLoader(load_fn=load)


# The relations' statements, used alike by the loaders below and by a page's read-ahead
# (server.resolvers.customer_page). They select table columns: Core rows, not ORM entities.

def trials_of(actor, customer_ids: list[int]):
    return (select(Trial.__table__).where(Trial.customer_id.in_(customer_ids), visibility.trial_condition(actor))
            .order_by(Trial.id))


def services_of(trial_ids: list[int]):
    return (select(TrialService.__table__).where(TrialService.trial_id.in_(trial_ids), TrialService.removed_at.is_(None))
            .order_by(TrialService.id))


def shipments_of(trial_ids: list[int]):
    return select(Shipment.__table__).where(Shipment.trial_id.in_(trial_ids)).order_by(Shipment.id)


def purchased_of(customer_ids: list[int]):
    return (select(PurchasedService.__table__).where(PurchasedService.customer_id.in_(customer_ids))
            .order_by(PurchasedService.service))


def access_of(partner_id: int, customer_ids: list[int]):
    """The partner's access grant on each customer (R-ROLE-03)."""
    return select(PartnerAccessGrant.__table__).where(PartnerAccessGrant.customer_id.in_(customer_ids),
                                                      PartnerAccessGrant.partner_id == partner_id)


def partners_of(partner_ids: list[int]):
    return select(PartnerOrg.__table__).where(PartnerOrg.id.in_(partner_ids))


def trials_by_customer(ctx) -> DataLoader:
    return _grouped(ctx, lambda ks: trials_of(ctx.actor, ks), "customer_id")


def services_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, services_of, "trial_id")


def shipments_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, shipments_of, "trial_id")


def extension_requests_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, lambda ks: select(DeviceExtensionRequest.__table__).where(DeviceExtensionRequest.trial_id.in_(ks))
                    .order_by(DeviceExtensionRequest.id), "trial_id")


def purchased_by_customer(ctx) -> DataLoader:
    return _grouped(ctx, purchased_of, "customer_id")


def locations_by_customer(ctx) -> DataLoader:
    return _grouped(ctx, lambda ks: select(Location.__table__).where(Location.customer_id.in_(ks))
                    .order_by(Location.name), "customer_id")


def access_by_customer(ctx) -> DataLoader:
    """The viewer's partner's access grant on each customer (R-ROLE-03)."""
    return _by_id(ctx, lambda ks: access_of(ctx.actor.partner_id, ks), "customer_id")


def partners(ctx) -> DataLoader:
    return _by_id(ctx, partners_of)


def customers(ctx) -> DataLoader:
    """Customers by ID, within the actor's reach (None otherwise)."""
    condition = visibility.customer_condition(ctx.actor)
    return _by_id(ctx, lambda ks: select(CustomerOrg.__table__).where(CustomerOrg.id.in_(ks), condition))


def trial_customers(ctx) -> DataLoader:
    """The customer of a trial the viewer already holds (a Trial object is only built from a row in
    reach, e.g. a mutation's answer about a request that just left the list): no scope again."""
    return _by_id(ctx, lambda ks: select(CustomerOrg.__table__).where(CustomerOrg.id.in_(ks)))


def trials(ctx) -> DataLoader:
    """Trials by ID, within the actor's reach (None otherwise)."""
    async def load(keys: Sequence[int]) -> list:
        async with read(ctx) as db:
            return [await visibility.find_trial(db, ctx.actor, k) for k in keys]
    return DataLoader(load_fn=load)


def load(info, name: str, factory, key):
    """`info.context.loader(name, factory).load(key)` in one call."""
    return info.context.loader(name, factory).load(key)
