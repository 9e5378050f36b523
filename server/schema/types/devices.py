"""Shipment, ShipmentItem, DeviceModel, DeviceExtensionRequest (SPEC §6, R-EXT-02).

Owned by the devices area; the lifecycle area uses these classes for Trial.shipments and
Trial.deviceExtensionRequests.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from server.db.models import DeviceExtensionRequest as ExtensionRow
from server.db.models import Shipment as ShipmentRow
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


@strawberry.type
class Shipment(Node):
    device_type: DeviceType
    status: ShipmentStatus
    demo_order_number: str | None
    carrier: str | None
    due_date: date | None
    return_by: date | None
    _pk: strawberry.Private[int]
    _items: strawberry.Private[list[ShipmentItem] | None] = None

    @strawberry.field
    async def items(self, info: Info) -> list[ShipmentItem]:
        if self._items is not None:
            return self._items
        from sqlalchemy import select

        from server.db.models import ShipmentItem as ItemRow

        db = await info.context.db()
        rows = await db.scalars(select(ItemRow).where(ItemRow.shipment_id == self._pk).order_by(ItemRow.id))
        return [ShipmentItem(model=r.model, serial_number=r.serial_number) for r in rows]

    @classmethod
    def from_row(cls, row: ShipmentRow, items: list[ShipmentItem] | None = None) -> "Shipment":
        return cls(id=to_global_id("Shipment", row.id), device_type=DeviceType(row.device_type),
                   status=ShipmentStatus(row.status), demo_order_number=row.demo_order_number, carrier=row.carrier,
                   due_date=row.due_date, return_by=row.return_by, _pk=row.id, _items=items)


@strawberry.type
class ShipmentPayload:
    shipment: Shipment | None
    user_errors: list[UserError]


@strawberry.type
class DeviceExtensionRequest(Node):
    days: int
    status: ExtensionStatus
    note: str | None
    _trial_id: strawberry.Private[int]

    @strawberry.field
    async def trial(self, info: Info) -> Annotated["Trial", strawberry.lazy("server.schema.types.trials")]:
        from server.schema.types.trials import Trial

        return await Trial.load(info, self._trial_id)

    @classmethod
    def from_row(cls, row: ExtensionRow) -> "DeviceExtensionRequest":
        return cls(id=to_global_id("DeviceExtensionRequest", row.id), days=row.days,
                   status=ExtensionStatus(row.status), note=row.note, _trial_id=row.trial_id)


@strawberry.type
class DeviceExtensionPayload:
    request: DeviceExtensionRequest | None
    user_errors: list[UserError]
