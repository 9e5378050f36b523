"""Per-request DataLoaders (DESIGN "Per-request context"): every relation the customers list shows
is one query per page, not one per row. Each loader applies the actor's tenant scope.

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


def _grouped(ctx, build: Callable[[list], Any], attr: str) -> DataLoader:
    async def load(keys: Sequence[int]) -> list[list]:
        groups: dict[int, list] = defaultdict(list)
        async with read(ctx) as db:
            for row in await db.scalars(build(list(keys))):
                groups[getattr(row, attr)].append(row)
        return [groups.get(k, []) for k in keys]
    return DataLoader(load_fn=load)


def _by_id(ctx, build: Callable[[list], Any], attr: str = "id") -> DataLoader:
    async def load(keys: Sequence[int]) -> list:
        async with read(ctx) as db:
            found = {getattr(row, attr): row for row in await db.scalars(build(list(keys)))}
        return [found.get(k) for k in keys]
    return DataLoader(load_fn=load)


def trials_by_customer(ctx) -> DataLoader:
    condition = visibility.trial_condition(ctx.actor)
    return _grouped(ctx, lambda ks: select(Trial).where(Trial.customer_id.in_(ks), condition).order_by(Trial.id),
                    "customer_id")


def services_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, lambda ks: select(TrialService).where(TrialService.trial_id.in_(ks),
                                                               TrialService.removed_at.is_(None))
                    .order_by(TrialService.id), "trial_id")


def shipments_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, lambda ks: select(Shipment).where(Shipment.trial_id.in_(ks)).order_by(Shipment.id), "trial_id")


def extension_requests_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, lambda ks: select(DeviceExtensionRequest).where(DeviceExtensionRequest.trial_id.in_(ks))
                    .order_by(DeviceExtensionRequest.id), "trial_id")


def purchased_by_customer(ctx) -> DataLoader:
    return _grouped(ctx, lambda ks: select(PurchasedService).where(PurchasedService.customer_id.in_(ks))
                    .order_by(PurchasedService.service), "customer_id")


def locations_by_customer(ctx) -> DataLoader:
    return _grouped(ctx, lambda ks: select(Location).where(Location.customer_id.in_(ks)).order_by(Location.name),
                    "customer_id")


def access_by_customer(ctx) -> DataLoader:
    """The viewer's partner's access grant on each customer (R-ROLE-03)."""
    partner = ctx.actor.partner_id
    return _by_id(ctx, lambda ks: select(PartnerAccessGrant).where(PartnerAccessGrant.customer_id.in_(ks),
                                                                   PartnerAccessGrant.partner_id == partner),
                  "customer_id")


def partners(ctx) -> DataLoader:
    return _by_id(ctx, lambda ks: select(PartnerOrg).where(PartnerOrg.id.in_(ks)))


def customers(ctx) -> DataLoader:
    """Customers by ID, within the actor's reach (None otherwise)."""
    condition = visibility.customer_condition(ctx.actor)
    return _by_id(ctx, lambda ks: select(CustomerOrg).where(CustomerOrg.id.in_(ks), condition))


def trial_customers(ctx) -> DataLoader:
    """The customer of a trial the viewer already holds (a Trial object is only built from a row in
    reach, e.g. a mutation's answer about a request that just left the list): no scope again."""
    return _by_id(ctx, lambda ks: select(CustomerOrg).where(CustomerOrg.id.in_(ks)))


def trials(ctx) -> DataLoader:
    """Trials by ID, within the actor's reach (None otherwise)."""
    async def load(keys: Sequence[int]) -> list:
        async with read(ctx) as db:
            return [await visibility.find_trial(db, ctx.actor, k) for k in keys]
    return DataLoader(load_fn=load)


def load(info, name: str, factory, key):
    """`info.context.loader(name, factory).load(key)` in one call."""
    return info.context.loader(name, factory).load(key)
