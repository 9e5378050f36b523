"""The device catalog (R-DEV-01): the models a trial may order, with each one's maximum quantity.

The one source of the limits: `DeviceModel.max_quantity` (loaded from server/db/device_catalog.json),
answered as `deviceCatalog { maxQuantity }`, checked by `within_limit`; the start wizard's devices
step and the shipment form both offer each model with its own limit from that answer.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import DeviceModel


async def models(db: AsyncSession) -> list[DeviceModel]:
    """Every model, by type then name (the order the wizard and the planner's root list show)."""
    return list(await db.scalars(select(DeviceModel).order_by(DeviceModel.type, DeviceModel.model)))


def within_limit(model: DeviceModel, quantity: Any) -> bool:
    """R-DEV-01: 1 to the model's maximum quantity."""
    return isinstance(quantity, int) and not isinstance(quantity, bool) and 1 <= quantity <= model.max_quantity


def limit_message(model: DeviceModel) -> str:
    return f"Order 1 to {model.max_quantity} of {model.model}."
