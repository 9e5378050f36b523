"""Shipment, ShipmentItem, DeviceModel, DeviceExtensionRequest (SPEC §6, R-EXT-02).

Owned by the devices area; the lifecycle area uses these classes for Trial.shipments and
Trial.deviceExtensionRequests.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import and_, func, text
from strawberry.types import Info

from server.db import relations
from server.db.models import DeviceExtensionRequest as ExtensionRow
from server.db.models import DeviceModel as DeviceModelRow
from server.db.models import Shipment as ShipmentRow
from server.db.models import ShipmentItem as ItemRow
from server.domain.core import visibility
from server.planner import declare as plan
from server.schema import columns
from server.schema.enums import DeviceType, ExtensionStatus, ShipmentStatus
from server.schema.errors import UserError
from server.schema.node import Node, to_global_id

if TYPE_CHECKING:
    from server.schema.types.trials import Trial


@strawberry.type
class DeviceModel:
    type: DeviceType
    model: str
    max_quantity: int


@strawberry.type
class ShipmentItem:
    model: str
    serial_number: str | None


@strawberry.type(description="R-RMA-02: what came back that was not shipped, and what is still missing.")
class ReturnMismatch:
    missing: list[str]
    unexpected: list[str]


@strawberry.input(description="Who receives the devices (R-DEV-02); phone in E.164.")
class ShippingContactInput:
    name: str
    phone: str


@strawberry.type(description="R-DEV-01/02: where a shipment's devices are delivered (the shipment's country) and who "
                 "receives them (phone in E.164).")
class ShippingAddress:
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str
    contact_name: str
    contact_phone: str

    @classmethod
    def from_row(cls, row: ShipmentRow) -> "ShippingAddress | None":
        if not row.address_line1:
            return None
        return cls(line1=row.address_line1, line2=row.address_line2, city=row.address_city or "",
                   postal_code=row.address_postal_code or "", region=row.address_region, country=row.country,
                   contact_name=row.contact_name or "", contact_phone=row.contact_phone or "")


@strawberry.type(description="R-DEV-01/02, R-RMA-01/02: devices shipped for a trial and their return.")
class Shipment(Node):
    device_type: DeviceType
    status: ShipmentStatus
    demo_order_number: str | None
    carrier: str | None
    due_date: date | None = strawberry.field(description="Device due date (shipped on + trial duration).")
    return_by: date | None = strawberry.field(description="R-RMA-01: due date + 14 days, the last day to return.")
    model: str
    quantity: int
    poe_confirmed: bool
    country: str
    shipped_on: date | None
    return_labels_requested: int
    return_mismatch: ReturnMismatch | None
    return_instructions: str = strawberry.field(description="R-RMA-01: how the customer sends the devices back.")
    at_customer: bool = strawberry.field(description="The devices are at the customer: shipped, not yet returned "
                                                     "(R-RMA-01; R-EXT-02 may extend them).")
    shipping_address: ShippingAddress | None = None
    _pk: strawberry.Private[int]
    _trial_id: strawberry.Private[int]
    _items: strawberry.Private[list[ShipmentItem] | None] = None

    @strawberry.field
    async def items(self, info: Info) -> list[ShipmentItem]:
        if self._items is not None:
            return self._items
        from server import loaders

        rows = await loaders.load(info, "items_by_shipment", loaders.items_by_shipment, self._pk)
        return [ShipmentItem(**columns.values(ShipmentItem, r)) for r in rows]

    @strawberry.field
    async def trial(self, info: Info) -> Annotated["Trial", strawberry.lazy("server.schema.types.trials")] | None:
        from server.schema.types.trials import Trial

        return await Trial.load(info, self._trial_id)

    @classmethod
    def from_row(cls, row: ShipmentRow, items: list[ShipmentItem] | None = None) -> "Shipment":
        from server.domain.devices.shipments import return_instructions

        mismatch = row.mismatch or None
        return cls(**columns.values(
            cls, row, id=to_global_id("Shipment", row.id), poe_confirmed=bool(row.poe_confirmed),
            return_labels_requested=row.return_labels_requested or 0,
            return_mismatch=ReturnMismatch(missing=list(mismatch.get("missing", [])),
                                           unexpected=list(mismatch.get("unexpected", []))) if mismatch else None,
            return_instructions=return_instructions(row.country, row.demo_order_number),
            at_customer=_at_customer(None, row.status), shipping_address=ShippingAddress.from_row(row), _pk=row.id,
            _trial_id=row.trial_id, _items=items))


@strawberry.type
class ShipmentPayload:
    shipment: Shipment | None
    user_errors: list[UserError]


@strawberry.type(description="R-EXT-02: a device trial extension asked by the partner, decided by the trials team.")
class DeviceExtensionRequest(Node):
    days: int
    status: ExtensionStatus
    note: str | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    _trial_id: strawberry.Private[int]

    @strawberry.field
    async def trial(self, info: Info) -> Annotated["Trial", strawberry.lazy("server.schema.types.trials")]:
        from server.schema.types.trials import Trial

        return await Trial.load(info, self._trial_id)

    @classmethod
    def from_row(cls, row: ExtensionRow) -> "DeviceExtensionRequest":
        return cls(**columns.values(cls, row, id=to_global_id("DeviceExtensionRequest", row.id), _trial_id=row.trial_id))


@strawberry.type
class DeviceExtensionPayload:
    request: DeviceExtensionRequest | None
    user_errors: list[UserError]


# What the planner reads for these fields (server.planner.declare): the plain column fields are derived
# from the attributes (server.schema.columns); the computed fields and relations are written here.
def _trial_of() -> plan.Relation:
    """`Shipment.trial`, `DeviceExtensionRequest.trial`: `Trial.load`, i.e. the trial within the viewer's
    reach (`visibility.trial_reach`), else null."""
    return plan.related("Trial", relations.TRIAL_OF, many=False,
                        scope=lambda actor, trial: visibility.trial_reach(actor, trial.c))


def _mismatch(part: str):
    return lambda mismatch: list(mismatch.get(part, []))


def _at_customer(env, status: str) -> bool:
    from server.domain.devices.shipments import OUT

    return ShipmentStatus(status) in OUT


def _return_instructions(env, country: str, order: str | None) -> str:
    from server.domain.devices.shipments import return_instructions

    return return_instructions(country, order)


plan.declare(DeviceModel, DeviceModelRow)
plan.declare(ShipmentItem, ItemRow)
plan.declare(
    Shipment, ShipmentRow,
    poeConfirmed=plan.Column("poe_confirmed", convert=bool),
    returnLabelsRequested=plan.Column("return_labels_requested", convert=lambda n: n or 0),
    returnInstructions=plan.Derived(_return_instructions, "country", "demo_order_number"),
    atCustomer=plan.Derived(_at_customer, "status"),
    items=plan.related("ShipmentItem", relations.SHIPMENT_ITEMS),
    trial=_trial_of(),
    # `from_row`: `row.mismatch or None` -- the domain writes a dict or None (JSON null), so: a non-empty object
    returnMismatch=plan.Embedded("ReturnMismatch", present=lambda shipment: and_(
        func.jsonb_typeof(shipment.c.mismatch) == "object", shipment.c.mismatch != text("'{}'::jsonb"))),
    # `ShippingAddress.from_row`: present when the delivery was given (its columns are all set or all null)
    shippingAddress=plan.Embedded("ShippingAddress", present=lambda shipment: and_(
        shipment.c.address_line1.is_not(None), shipment.c.address_line1 != "")),
)
plan.declare(ShippingAddress, line1=plan.Column("address_line1"), line2=plan.Column("address_line2"),
             city=plan.Column("address_city", convert=lambda v: v or ""),
             postalCode=plan.Column("address_postal_code", convert=lambda v: v or ""),
             region=plan.Column("address_region"), country=plan.Column("country"),
             contactName=plan.Column("contact_name", convert=lambda v: v or ""),
             contactPhone=plan.Column("contact_phone", convert=lambda v: v or ""))
plan.declare(ReturnMismatch, missing=plan.Column("mismatch", convert=_mismatch("missing")),
             unexpected=plan.Column("mismatch", convert=_mismatch("unexpected")))
plan.declare(DeviceExtensionRequest, ExtensionRow, trial=_trial_of())
