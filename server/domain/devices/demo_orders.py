"""R-RMA-03: without the demo order number, the partner finds the shipment by customer org ID and
admin email, or by serial numbers; only among its own customers (tenant scope, R-ORG-02).

Decision: the org ID and the admin email go together (either alone finds nothing); the admin must
be an admin of that org. Both ways may be given at once: the answer holds the shipments either
finds. Only shipments with a demo order number (recorded by the trials team) are answered.
At most MAX_SERIAL_NUMBERS serial numbers at once (INVALID_INPUT beyond: a box holds far fewer, and
40,000 overflowed the database driver's parameter limit into a 500).
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerOrg, CustomerUser, Shipment, ShipmentItem, Trial
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.enums import CustomerRole, ErrorCode

MAX_SERIAL_NUMBERS = 200


async def find(db: AsyncSession, actor: Actor, customer_id: int | None, admin_email: str | None,
               serial_numbers: list[str] | None) -> list[Shipment]:
    if not (actor.is_partner or actor.is_trials_team):
        return []
    ways = []
    if customer_id is not None and admin_email:
        admin = select(CustomerUser.id).where(
            CustomerUser.customer_id == customer_id, CustomerUser.email == admin_email.strip().lower(),
            CustomerUser.role.in_([CustomerRole.FULL_ADMIN.value, CustomerRole.ADMIN.value]))
        ways.append(Shipment.customer_id == customer_id if await db.scalar(admin.limit(1)) else None)
    if serial_numbers is not None and len(serial_numbers) > MAX_SERIAL_NUMBERS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Look up at most {MAX_SERIAL_NUMBERS} serial numbers at once.",
                          "serialNumbers")
    serials = [s.strip().upper() for s in serial_numbers or [] if s and s.strip()]
    if serials:
        ways.append(Shipment.id.in_(select(ShipmentItem.shipment_id).where(ShipmentItem.serial_number.in_(serials))))
    ways = [w for w in ways if w is not None]
    if not ways:
        return []
    visible = select(CustomerOrg.id).where(visibility.customer_condition(actor))
    stmt = (select(Shipment).join(Trial, Trial.id == Shipment.trial_id)
            .where(or_(*ways), Shipment.demo_order_number.is_not(None), visibility.trial_condition(actor),
                   Shipment.customer_id.in_(visible))
            .order_by(Shipment.id))
    return list(await db.scalars(stmt))
