"""Devices on trial (SPEC §6, R-EXT-02): shipment, return and device extension operations. Thin:
each resolver calls one domain function."""
from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from sqlalchemy import any_, exists, select

from server import loaders
from server.db.models import DeviceExtensionRequest as ExtensionRow
from server.db.models import Shipment as ShipmentRow
from server.db.models import Trial as TrialRow
from server.domain.devices import demo_orders
from server.domain.devices.delivery import Contact
from server.domain.devices import extensions as device_extensions
from server.domain.devices import returns
from server.domain.devices import shipments
from server.domain.core import visibility
from server.enums import ShipmentStatus as StatusValue
from server.domain.core.errors import DomainError
from server.planner import declare as plan
from server.planner import roots
from server.domain.trials.options import DeviceOrder
from server.resolvers.answer import answer, as_graphql_error
from server.resolvers.calling import to_address
from server.resolvers.node import NODE_RESOLVERS
from server.resolvers.node import PLANNED as PLANNED_NODES
from server.schema.enums import DeviceSkip, ExtensionStatus
from server.schema.node import decode_id
from server.schema.permissions import IsAuthenticated
from server.schema.types.devices import DeviceExtensionPayload, DeviceExtensionRequest, Shipment, ShipmentPayload
from server.schema.types.trials import DeviceRequest, Trial, TrialPayload

AUTH = [IsAuthenticated]
TO_RECONCILE = (StatusValue.RETURN_DUE, StatusValue.OVERDUE, StatusValue.RETURN_MISMATCH)


async def _in_trial_reach(info: Info, model, pk: int, to_type):
    """node(id:) for rows that hang off a trial: within the viewer's reach, else null (R-ORG-02)."""
    async with loaders.read(info.context) as db:
        row = await db.get(model, pk)
        if row is None or await visibility.find_trial(db, info.context.actor, row.trial_id) is None:
            return None
        return to_type(row)


async def load_shipment(info: Info, pk: int) -> Shipment | None:
    return await _in_trial_reach(info, ShipmentRow, pk, Shipment.from_row)


async def load_extension_request(info: Info, pk: int) -> DeviceExtensionRequest | None:
    return await _in_trial_reach(info, ExtensionRow, pk, DeviceExtensionRequest.from_row)


NODE_RESOLVERS["Shipment"] = load_shipment
NODE_RESOLVERS["DeviceExtensionRequest"] = load_extension_request


def _of_a_trial_in_reach(model):
    """What the planner reads for `node(id:)` of these types (server.resolvers.node.PLANNED): the row
    whose trial is within the viewer's reach (`_in_trial_reach`, i.e. `visibility.trial_reach`)."""
    def condition(actor):
        trial = TrialRow.__table__.alias()
        return exists(select(trial.c.id).where(trial.c.id == model.__table__.c.trial_id,
                                               visibility.trial_reach(actor, trial.c)))
    return model, condition


PLANNED_NODES["Shipment"] = _of_a_trial_in_reach(ShipmentRow)
PLANNED_NODES["DeviceExtensionRequest"] = _of_a_trial_in_reach(ExtensionRow)


@strawberry.type
class DevicesQuery:
    @strawberry.field(permission_classes=AUTH, description="Trials team: requests waiting for a decision.")
    async def device_extension_requests(self, info: Info, status: ExtensionStatus | None = ExtensionStatus.PENDING
                                        ) -> list[DeviceExtensionRequest]:
        async with loaders.read(info.context) as db:
            rows = await device_extensions.list_requests(db, info.context.actor, status)
        return [DeviceExtensionRequest.from_row(r) for r in rows]

    @strawberry.field(permission_classes=AUTH, description="R-RMA-03: by org ID and admin email, or by serial numbers; "
                      "only the caller's own customers.")
    async def demo_orders(self, info: Info, customer_org_id: strawberry.ID | None = None,
                          admin_email: str | None = None, serial_numbers: list[str] | None = None) -> list[Shipment]:
        customer_pk = decode_id(str(customer_org_id), "Customer") if customer_org_id else None
        try:
            async with loaders.read(info.context) as db:
                rows = await demo_orders.find(db, info.context.actor, customer_pk, admin_email, serial_numbers)
        except DomainError as error:
            raise await as_graphql_error(info, error, "demoOrders")
        return [Shipment.from_row(r) for r in rows]

    @strawberry.field(permission_classes=AUTH, description="Trials team: requested shipments to record, oldest first.")
    async def shipments_to_record(self, info: Info) -> list[Shipment]:
        async with loaders.read(info.context) as db:
            rows = await shipments.trials_team_queue(db, info.context.actor, [StatusValue.REQUESTED])
            return [Shipment.from_row(r) for r in rows]

    @strawberry.field(permission_classes=AUTH, description="Trials team: returns due, overdue or mismatched.")
    async def returns_to_reconcile(self, info: Info) -> list[Shipment]:
        async with loaders.read(info.context) as db:
            rows = await shipments.trials_team_queue(db, info.context.actor, TO_RECONCILE)
            return [Shipment.from_row(r) for r in rows]


def _shipment_pk(shipment_id: strawberry.ID) -> int | None:
    return decode_id(str(shipment_id), "Shipment")


def device_order(device: DeviceRequest) -> DeviceOrder:
    """GraphQL's DeviceRequest → the domain's DeviceOrder (startTrial's devices and requestShipment)."""
    contact = device.contact
    return DeviceOrder(type=device.type.value, model=device.model, quantity=device.quantity,
                       poe_confirmed=bool(device.poe_confirmed),
                       shipping_address=to_address(device.shipping_address) if device.shipping_address else None,
                       contact=Contact(name=contact.name, phone=contact.phone) if contact else None)


@strawberry.type
class DevicesMutation:
    @strawberry.mutation(permission_classes=AUTH, description="Partner: one shipment per device type per trial (R-DEV-01).")
    async def request_shipment(self, info: Info, trial_id: strawberry.ID, device: DeviceRequest) -> ShipmentPayload:
        actor, pk = info.context.actor, decode_id(str(trial_id), "Trial")
        return await answer(info, "requestShipment", ShipmentPayload, "shipment",
                            lambda db: shipments.request_shipment(db, actor, pk, device_order(device)),
                            Shipment.from_row)

    @strawberry.mutation(permission_classes=AUTH, description="R-DEV-01: ship no devices, and say why.")
    async def skip_devices(self, info: Info, trial_id: strawberry.ID, skip: DeviceSkip) -> TrialPayload:
        actor, pk = info.context.actor, decode_id(str(trial_id), "Trial")
        return await answer(info, "skipDevices", TrialPayload, "trial",
                            lambda db: shipments.skip_devices(db, actor, pk, skip), Trial.from_row)

    @strawberry.mutation(permission_classes=AUTH, description="Trials team (R-DEV-02).")
    async def record_shipment(self, info: Info, shipment_id: strawberry.ID, demo_order_number: str,
                              serial_numbers: list[str], shipped_on: date) -> ShipmentPayload:
        actor, pk = info.context.actor, _shipment_pk(shipment_id)
        return await answer(info, "recordShipment", ShipmentPayload, "shipment", lambda db: shipments.record_shipment(
            db, actor, pk, demo_order_number, serial_numbers, shipped_on), Shipment.from_row)

    @strawberry.mutation(permission_classes=AUTH, description="Trials team (R-RMA-02): a mismatch is recorded and "
                         "the return stays open.")
    async def record_return(self, info: Info, shipment_id: strawberry.ID, serial_numbers: list[str]) -> ShipmentPayload:
        actor, pk = info.context.actor, _shipment_pk(shipment_id)
        return await answer(info, "recordReturn", ShipmentPayload, "shipment",
                            lambda db: returns.record_return(db, actor, pk, serial_numbers), Shipment.from_row)

    @strawberry.mutation(permission_classes=AUTH, description="US only (R-RMA-01).")
    async def request_return_label(self, info: Info, shipment_id: strawberry.ID) -> ShipmentPayload:
        actor, pk = info.context.actor, _shipment_pk(shipment_id)
        return await answer(info, "requestReturnLabel", ShipmentPayload, "shipment",
                            lambda db: shipments.request_return_label(db, actor, pk), Shipment.from_row)

    @strawberry.mutation(permission_classes=AUTH, description="R-EXT-02: ask the trials team for more device days.")
    async def request_device_extension(self, info: Info, trial_id: strawberry.ID, days: int,
                                       reason: str | None = None) -> DeviceExtensionPayload:
        actor, pk = info.context.actor, decode_id(str(trial_id), "Trial")
        return await answer(info, "requestDeviceExtension", DeviceExtensionPayload, "request",
                            lambda db: device_extensions.request_extension(db, actor, pk, days, reason),
                            DeviceExtensionRequest.from_row)

    @strawberry.mutation(permission_classes=AUTH, description="Trials team (R-EXT-02).")
    async def decide_device_extension(self, info: Info, request_id: strawberry.ID, approve: bool,
                                      note: str | None = None) -> DeviceExtensionPayload:
        actor, pk = info.context.actor, decode_id(str(request_id), "DeviceExtensionRequest")
        return await answer(info, "decideDeviceExtension", DeviceExtensionPayload, "request",
                            lambda db: device_extensions.decide_extension(db, actor, pk, approve, note),
                            DeviceExtensionRequest.from_row)


# What the planner reads for the queues (server.planner): the domain's conditions and orders.
plan.root("deviceExtensionRequests", roots.RowList(
    "DeviceExtensionRequest", ExtensionRow, order=lambda request: device_extensions.requests_order(),
    condition=lambda actor, request, bound: device_extensions.requests_condition(actor, bound("status")),
    params=lambda args, actor: {"status": args["status"].value if args.get("status") is not None else None}))
plan.root("shipmentsToRecord", roots.RowList(
    "Shipment", ShipmentRow, order=lambda shipment: shipments.queue_order(),
    condition=lambda actor, shipment, bound: shipments.queue_condition(actor, [StatusValue.REQUESTED])))
plan.root("returnsToReconcile", roots.RowList(
    "Shipment", ShipmentRow, order=lambda shipment: shipments.queue_order(),
    condition=lambda actor, shipment, bound: shipments.queue_condition(actor, TO_RECONCILE)))
def _demo_lookup(args: dict, actor) -> dict:
    """demoOrders' arguments as `demo_orders.asked` reads them for this actor (None: that way not asked)."""
    customer = args.get("customerOrgId")
    pk = roots.pk_of(customer, lambda text: decode_id(text, "Customer")) if customer else None
    customer_id, email, serials = demo_orders.asked(actor, pk, args.get("adminEmail"), args.get("serialNumbers"))
    return {"customer": customer_id, "email": email, "serials": serials}


# demoOrders (R-RMA-03): the domain's condition over the shipment rows, its values bound per call.
plan.root("demoOrders", roots.RowList(
    "Shipment", ShipmentRow, order=lambda shipment: [shipment.c.id], params=_demo_lookup,
    condition=lambda actor, shipment, bound: demo_orders.condition(
        actor, shipment, bound("customer"), bound("email"), bound("serials"),
        any_of=lambda column, serials: column == any_(serials))))
