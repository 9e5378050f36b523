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
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from strawberry.dataloader import DataLoader

from server.db import relations
from server.db.models import CustomerOrg, PartnerAccessGrant, PartnerOrg, PurchasedService
from server.domain.core import visibility


@asynccontextmanager
async def read(ctx) -> AsyncIterator:
    """The request's read session, one user at a time: GraphQL resolves sibling fields concurrently
    and an AsyncSession must not run two statements at once."""
    lock = ctx.__dict__.setdefault("_read_lock", asyncio.Lock())
    async with lock:
        yield await ctx.db()


def ids_in(column, dialect: str):
    """`column` among the list bound as `ids` at execution: `= ANY(:ids)` on PostgreSQL (one prepared
    statement whatever the list's length), an expanding IN elsewhere. Binding the list, rather than
    building a statement with one literal per key, also keeps statement construction cheap."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=ARRAY(BigInteger)))
    return column.in_(bindparam("ids", expanding=True))


async def _rows(ctx, build: Callable[[str], Any], ids: Sequence[int]) -> list:
    async with read(ctx) as db:
        return (await db.execute(build(db.get_bind().dialect.name), {"ids": list(ids)})).all()


async def grouped(ctx, build: Callable[[str], Any], attr: str, ids: Sequence[int]) -> dict[int, list]:
    """Core rows (tuples with attribute access: no ORM identity map or instance state) of the
    statement `build(dialect)` for `ids`, grouped by `attr`."""
    groups: dict[int, list] = defaultdict(list)
    for row in await _rows(ctx, build, ids):
        groups[getattr(row, attr)].append(row)
    return groups


async def by_key(ctx, build: Callable[[str], Any], ids: Sequence[int], attr: str = "id") -> dict[int, Any]:
    return {getattr(row, attr): row for row in await _rows(ctx, build, ids)}


def _grouped(ctx, build: Callable[[str], Any], attr: str) -> DataLoader:
    async def load(keys: Sequence[int]) -> list[list]:
        groups = await grouped(ctx, build, attr, keys)
        return [groups.get(k, []) for k in keys]
    return DataLoader(load_fn=load)


def _by_id(ctx, build: Callable[[str], Any], attr: str = "id") -> DataLoader:
    async def load(keys: Sequence[int]) -> list:
        found = await by_key(ctx, build, keys, attr)
        return [found.get(k) for k in keys]
    return DataLoader(load_fn=load)


# The relations' statements over the bound `ids`, used alike by the loaders below and by a page's
# read-ahead (server.resolvers.customer_page), built from the relations' one declaration
# (server.db.relations, which the planner's joins use too). They select table columns: Core rows.

def _children(link: relations.Link):
    """The statement of `link`'s children of the parents `ids`, one per dialect."""
    return cache(lambda dialect: link.rows_of(lambda column: ids_in(column, dialect)))


def trials_of(actor) -> Callable[[str], Any]:
    """The actor's trials (R-ORG-02 scope) of the customers `ids`."""
    condition = visibility.trial_condition(actor)
    return lambda dialect: relations.CUSTOMER_TRIALS.rows_of(lambda column: ids_in(column, dialect), condition)


services_of = _children(relations.TRIAL_SERVICES)
shipments_of = _children(relations.TRIAL_SHIPMENTS)
extension_requests_of = _children(relations.TRIAL_EXTENSION_REQUESTS)
locations_of = _children(relations.CUSTOMER_LOCATIONS)
items_of = _children(relations.SHIPMENT_ITEMS)
numbers_of = _children(relations.LOCATION_NUMBERS)


@cache
def purchased_of(dialect: str):
    return (select(PurchasedService.__table__).where(ids_in(PurchasedService.customer_id, dialect))
            .order_by(PurchasedService.service))


def access_of(condition) -> Callable[[str], Any]:
    """The access grant the viewer reads on each of the customers `ids` (R-ROLE-03; `condition`:
    `visibility.access_condition`)."""
    return lambda dialect: select(PartnerAccessGrant.__table__).where(
        ids_in(PartnerAccessGrant.customer_id, dialect), condition)


@cache
def partners_of(dialect: str):
    return select(PartnerOrg.__table__).where(ids_in(PartnerOrg.id, dialect))


def last_active_by_trial(ctx) -> DataLoader:
    """Each trial's users and their last active day over its services (SPEC §10, server.domain.usage.sql);
    trials are only built from rows already in the viewer's reach (R-USE-09)."""
    from server.domain.usage import sql as usage_sql

    return _grouped(ctx, lambda dialect: usage_sql.last_active_by_trial(lambda column: ids_in(column, dialect)),
                    "trial_id")


def trials_by_customer(ctx) -> DataLoader:
    return _grouped(ctx, trials_of(ctx.actor), "customer_id")


def services_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, services_of, "trial_id")


def shipments_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, shipments_of, "trial_id")


def extension_requests_by_trial(ctx) -> DataLoader:
    return _grouped(ctx, extension_requests_of, "trial_id")


def purchased_by_customer(ctx) -> DataLoader:
    return _grouped(ctx, purchased_of, "customer_id")


def locations_by_customer(ctx) -> DataLoader:
    return _grouped(ctx, locations_of, "customer_id")


def items_by_shipment(ctx) -> DataLoader:
    """A shipment's items; shipments are only built from rows already in the viewer's reach."""
    return _grouped(ctx, items_of, "shipment_id")


def numbers_by_location(ctx) -> DataLoader:
    """A location's numbers; locations are only built from rows already in the viewer's reach."""
    return _grouped(ctx, numbers_of, "location_id")


def access_by_customer(ctx) -> DataLoader:
    """The access grant the viewer reads on each customer (R-ROLE-03, `visibility.access_condition`)."""
    return _by_id(ctx, access_of(visibility.access_condition(ctx.actor)), "customer_id")


def partners(ctx) -> DataLoader:
    return _by_id(ctx, partners_of)


def customers(ctx) -> DataLoader:
    """Customers by ID, within the actor's reach (None otherwise)."""
    condition, columns = visibility.customer_condition(ctx.actor), visibility.customer_columns(ctx.actor)
    return _by_id(ctx, lambda dialect: select(*columns).where(ids_in(CustomerOrg.id, dialect), condition))


def trial_customers(ctx) -> DataLoader:
    """The customer of a trial the viewer already holds (a Trial object is only built from a row in
    reach, e.g. a mutation's answer about a request that just left the list): no scope again, but
    its details only as the viewer may read them (R-EX-01)."""
    columns = visibility.customer_columns(ctx.actor)
    return _by_id(ctx, lambda dialect: select(*columns).where(ids_in(CustomerOrg.id, dialect)))


def own_customers(ctx) -> DataLoader:
    """Whether each customer is one of the viewer's own (R-ROLE-02's "own" scope, `visibility.own_customer`)."""
    condition = visibility.own_customer(ctx.actor, CustomerOrg.id)

    async def load(keys: Sequence[int]) -> list[bool]:
        found = await by_key(ctx, lambda dialect: select(CustomerOrg.id).where(ids_in(CustomerOrg.id, dialect),
                                                                               condition), keys)
        return [k in found for k in keys]
    return DataLoader(load_fn=load)


def trials(ctx) -> DataLoader:
    """Trials by ID, within the actor's reach (None otherwise)."""
    async def load(keys: Sequence[int]) -> list:
        async with read(ctx) as db:
            return [await visibility.find_trial(db, ctx.actor, k) for k in keys]
    return DataLoader(load_fn=load)


def load(info, name: str, factory, key):
    """`info.context.loader(name, factory).load(key)` in one call."""
    return info.context.loader(name, factory).load(key)
