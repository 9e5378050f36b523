"""Each relation the API reads, declared once: which rows of which table belong to a parent row, and
in which order. The loaders (server.loaders: one statement for a whole page of parents, `= ANY(:ids)`)
and the planner's joins (server.planner.declare.Relation: a correlated subquery per parent) are both
built from the same `Link`, so the two paths cannot read a relation differently.

Why not SQLAlchemy's `relationship()`: the readers work on Core tables — the planner on aliases of
them, the loaders on a bound list of parent keys — while a relationship's `primaryjoin` names the
mapped classes and would have to be adapted to both. A relationship stays where the ORM writes
through it (`Trial.services`, `CustomerOrg.purchased`). The viewer's scope (R-ORG-02, R-EX-01) is not
part of a link: it is the domain's condition (server.domain.core.visibility), which each reader adds.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select

from server.db.models import (
    CustomerOrg, DeviceExtensionRequest, Location, PartnerOrg, PhoneNumber, Shipment, ShipmentItem, Trial,
    TrialService,
)


@dataclass(frozen=True)
class Link:
    """The rows of `model` whose column `key` equals the parent row's `parent_key`, where `where`
    holds (a condition on the child table, e.g. a service not removed), ordered by `order`."""
    model: Any
    key: str
    parent_key: str = "id"
    order: tuple[str, ...] = ("id",)
    where: Callable[[Any], Any] | None = None

    def join(self, parent: Any, child: Any) -> Any:
        """The planner's join of a child table (or alias) to its parent's."""
        condition = child.c[self.key] == parent.c[self.parent_key]
        return condition if self.where is None else and_(condition, self.where(child))

    def ordering(self, child: Any) -> list:
        return [child.c[name] for name in self.order]

    def rows_of(self, parents: Callable[[Any], Any], *conditions: Any) -> Any:
        """The loaders' statement: every child of the parents whose key `parents(column)` accepts (the
        bound list of keys), with the reader's own `conditions` (the viewer's scope)."""
        table = self.model.__table__
        where = [parents(table.c[self.key]), *conditions]
        if self.where is not None:
            where.append(self.where(table))
        return select(table).where(*where).order_by(*self.ordering(table))


# Trial's relations
TRIAL_SERVICES = Link(TrialService, "trial_id", where=lambda service: service.c.removed_at.is_(None))
TRIAL_SHIPMENTS = Link(Shipment, "trial_id")
TRIAL_EXTENSION_REQUESTS = Link(DeviceExtensionRequest, "trial_id")
TRIAL_CUSTOMER = Link(CustomerOrg, "id", parent_key="customer_id")
TRIAL_PARTNER = Link(PartnerOrg, "id", parent_key="partner_id")
# Customer's
CUSTOMER_TRIALS = Link(Trial, "customer_id")
CUSTOMER_LOCATIONS = Link(Location, "customer_id", order=("name", "id"))
CUSTOMER_MANAGING_PARTNER = Link(PartnerOrg, "id", parent_key="managing_partner_id")
# Shipment's, DeviceExtensionRequest's and Location's
TRIAL_OF = Link(Trial, "id", parent_key="trial_id")
SHIPMENT_ITEMS = Link(ShipmentItem, "shipment_id")
LOCATION_NUMBERS = Link(PhoneNumber, "location_id", order=("e164", "id"))
