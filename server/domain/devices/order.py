"""Devices picked when a trial starts (R-DEV-01).

The devices area owns shipments (`server.domain.devices.shipments.request_shipments`); when that module
is present it does the work. Until then a minimal stand-in here creates REQUESTED shipments with
the R-DEV-01 checks: a known model of the right type, 1..max quantity, one shipment per device
type, PoE confirmed for phones that need it.
"""
from __future__ import annotations

import importlib

from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import CustomerOrg, DeviceModel, Shipment, Trial
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError, raise_all
from server.enums import ErrorCode, ShipmentStatus


async def order(db: AsyncSession, actor: Actor, trial: Trial, customer: CustomerOrg, devices: list) -> None:
    try:
        shipments = importlib.import_module("server.domain.devices.shipments")
    except ModuleNotFoundError:
        shipments = None
    if shipments is not None and hasattr(shipments, "request_shipments"):
        await shipments.request_shipments(db, actor, trial, devices)
        return
    errors: list[DomainError] = []
    seen: set[str] = set()
    for i, device in enumerate(devices):
        field = ["devices", str(i)]
        model = await db.get(DeviceModel, device.model)
        if model is None or model.type != str(device.type):
            errors.append(DomainError(ErrorCode.INVALID_INPUT, f"No {device.type} model '{device.model}'.", field))
            continue
        if not 1 <= device.quantity <= model.max_quantity:
            errors.append(DomainError(ErrorCode.INVALID_INPUT,
                                      f"Order 1 to {model.max_quantity} of {model.model}.", field))
        if model.type in seen:
            errors.append(DomainError(ErrorCode.SHIPMENT_EXISTS, f"One shipment per device type ({model.type}).", field))
        seen.add(model.type)
        if model.needs_poe and not device.poe_confirmed:
            errors.append(DomainError(ErrorCode.POE_NOT_CONFIRMED, "Phones come without power supplies: confirm PoE "
                                      "at the site or contact the trials team.", field))
    raise_all(errors)
    for device in devices:
        db.add(Shipment(trial_id=trial.id, customer_id=customer.id, device_type=str(device.type), model=device.model,
                        quantity=device.quantity, poe_confirmed=device.poe_confirmed,
                        status=ShipmentStatus.REQUESTED.value, country=customer.country, created_at=clock.now()))
    await db.flush()
