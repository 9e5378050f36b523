"""Device returns: reconciling serials, due and overdue returns (R-RMA-01, R-RMA-02).

Decisions:
- A return is recorded by the trials team with the serial numbers that came back; it may come in
  several boxes, so serials accumulate. When every shipped serial is back and nothing foreign came
  with it, the shipment is RETURNED. Otherwise the difference (`missing`, `unexpected`) is stored
  in `mismatch`, the status is RETURN_MISMATCH and the return stays open (the mutation succeeds:
  the mismatch is a recorded fact, not bad input).
- "Return by" is the last day: a return is flagged OVERDUE the day after `return_by`. The partner
  admins and the customer admins are emailed once per shipment.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import Deadline, Shipment, ShipmentItem, Trial
from server.domain.core import audit
from server.domain.notifications import notify
from server.domain.timeline import deadlines as timeline
from server.domain.core.actor import SYSTEM, Actor
from server.domain.core.errors import DomainError
from server.domain.notifications.outbox import EmailKind
from server.domain.core.permissions import Action
from server.domain.devices.shipments import OUT, get_shipment, normalize_serials, return_instructions, snapshot
from server.domain.timeline.deadlines import DeadlineKind
from server.enums import ErrorCode, ShipmentStatus


async def record_return(db: AsyncSession, actor: Actor, shipment_id: int | None, serial_numbers: list[str]) -> Shipment:
    """R-RMA-02: returned serials must match shipped ones; a mismatch is recorded, the return stays open."""
    shipment, trial = await get_shipment(db, actor, shipment_id, Action.RECORD_SHIPMENT)
    if ShipmentStatus(shipment.status) not in OUT:
        raise DomainError(ErrorCode.INVALID_STATE, "Only shipped devices can be returned.", "shipmentId")
    returned = set(normalize_serials(serial_numbers))
    if not returned:
        raise DomainError(ErrorCode.INVALID_INPUT, "Enter the serial numbers that came back.", "serialNumbers")
    before = snapshot(shipment)
    items = list(await db.scalars(select(ShipmentItem).where(ShipmentItem.shipment_id == shipment.id)))
    for item in items:
        if item.serial_number in returned:
            item.returned = True
    missing = sorted(i.serial_number for i in items if not i.returned)
    unexpected = sorted(returned - {i.serial_number for i in items})
    if missing or unexpected:
        shipment.mismatch = {"missing": missing, "unexpected": unexpected}
        shipment.status = ShipmentStatus.RETURN_MISMATCH.value
    else:
        shipment.mismatch = None
        shipment.status = ShipmentStatus.RETURNED.value
        shipment.returned_at = clock.now()
        await timeline.cancel(db, "Shipment", shipment.id, [DeadlineKind.RETURN_DUE, DeadlineKind.RETURN_OVERDUE])
    audit.record(db, actor, "shipment.return_recorded", "Shipment", shipment.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before=before,
                 after={**snapshot(shipment), "serials": sorted(returned)})
    return shipment


async def _open_shipment(db: AsyncSession, deadline: Deadline) -> tuple[Shipment, Trial] | None:
    shipment = await db.get(Shipment, deadline.subject_id)
    if shipment is None or ShipmentStatus(shipment.status) not in OUT:
        return None
    return shipment, await db.get(Trial, shipment.trial_id)


def _timed_move(db: AsyncSession, shipment, trial: Trial, status: ShipmentStatus, action: str) -> None:
    """A deadline moves the shipment to `status`, audited as the system."""
    before = snapshot(shipment)
    shipment.status = status.value
    audit.record(db, SYSTEM, action, "Shipment", shipment.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before=before, after=snapshot(shipment))


async def on_return_due(db: AsyncSession, deadline: Deadline) -> None:
    """R-RMA-01: the device due date has come; the two-week return window starts."""
    found = await _open_shipment(db, deadline)
    if found is None:
        return
    shipment, trial = found
    if shipment.status in (ShipmentStatus.SHIPPED.value, ShipmentStatus.DELIVERED.value):
        _timed_move(db, shipment, trial, ShipmentStatus.RETURN_DUE, "shipment.return_due")


async def on_return_overdue(db: AsyncSession, deadline: Deadline) -> None:
    """R-RMA-02: overdue returns are flagged and emailed (partner admins, customer admins; once)."""
    found = await _open_shipment(db, deadline)
    if found is None:
        return
    shipment, trial = found
    if shipment.return_by is None or clock.today() <= shipment.return_by:
        return  # moved by an approved extension after this deadline was planned
    _timed_move(db, shipment, trial, ShipmentStatus.OVERDUE, "shipment.overdue")
    details = dict(device_type=shipment.device_type, demo_order_number=shipment.demo_order_number,
                   order_number=shipment.demo_order_number, carrier=shipment.carrier,
                   return_by=shipment.return_by.isoformat(), missing=", ".join((shipment.mismatch or {}).get("missing", [])),
                   return_instructions=return_instructions(shipment.country, shipment.demo_order_number))
    event = f"shipment:{shipment.id}:overdue"
    await notify.to_partner_admins(db, EmailKind.RETURN_OVERDUE, trial, event, **details)
    await notify.to_customer_admins(db, EmailKind.RETURN_OVERDUE, trial, event, **details)
