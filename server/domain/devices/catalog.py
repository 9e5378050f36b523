"""The device catalog (R-DEV-01): the models a trial may order, with each one's maximum quantity."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import DeviceModel


async def models(db: AsyncSession) -> list[DeviceModel]:
    """Every model, by type then name (the order the wizard and the planner's root list show)."""
    return list(await db.scalars(select(DeviceModel).order_by(DeviceModel.type, DeviceModel.model)))
