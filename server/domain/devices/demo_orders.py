"""R-RMA-03: without the demo order number, the partner finds the shipment by customer org ID and
admin email, or by serial numbers; only among its own customers (tenant scope, R-ORG-02).

Decision: the org ID and the admin email go together (either alone finds nothing); the admin must
be an admin of that org. Both ways may be given at once: the answer holds the shipments either
finds. Only shipments with a demo order number (recorded by the trials team) are answered.
At most MAX_SERIAL_NUMBERS serial numbers at once (INVALID_INPUT beyond: a box holds far fewer, and
40,000 overflowed the database driver's parameter limit into a 500).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.sql.elements import False_
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerOrg, CustomerUser, Shipment, ShipmentItem, Trial
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.enums import CustomerRole, ErrorCode

MAX_SERIAL_NUMBERS = 200


def lookup(customer_id: int | None, admin_email: str | None,
           serial_numbers: list[str] | None) -> tuple[int | None, str | None, list[str] | None]:
    """The look-up's values as the rule compares them: (org, admin email) only together, serial numbers
    trimmed and upper-cased (None: that way not asked); INVALID_INPUT beyond MAX_SERIAL_NUMBERS."""
    if serial_numbers is not None and len(serial_numbers) > MAX_SERIAL_NUMBERS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Look up at most {MAX_SERIAL_NUMBERS} serial numbers at once.",
                          "serialNumbers")
    email = admin_email.strip().lower() if customer_id is not None and admin_email else None
    serials = [s.strip().upper() for s in serial_numbers or [] if s and s.strip()]
    return (customer_id if email is not None else None), email, (serials or None)


def condition(actor: Actor, shipment: Any, customer_id: Any, admin_email: Any, serials: Any, any_of=None):
    """R-RMA-03 as a condition on a shipment row (`shipment`: the table or an alias): found by either way
    asked (`lookup`'s values, or bound parameters; None: not asked), with a demo order number, in the
    actor's reach. `any_of(column, serials)`: how the serials are compared (a list's IN by default; the
    read planner binds them as one array)."""
    if not (actor.is_partner or actor.is_trials_team):
        return false()
    ways = []
    if customer_id is not None:
        admin = exists(select(CustomerUser.id).where(
            CustomerUser.customer_id == customer_id, CustomerUser.email == admin_email,
            CustomerUser.role.in_([CustomerRole.FULL_ADMIN.value, CustomerRole.ADMIN.value])))
        ways.append(and_(shipment.c.customer_id == customer_id, admin))
    if serials is not None:
        column = ShipmentItem.serial_number
        ways.append(shipment.c.id.in_(select(ShipmentItem.shipment_id).where(
            column.in_(serials) if any_of is None else any_of(column, serials))))
    if not ways:
        return false()
    visible = select(CustomerOrg.id).where(visibility.customer_condition(actor))
    reached = exists(select(Trial.id).where(Trial.id == shipment.c.trial_id, visibility.trial_condition(actor)))
    return and_(or_(*ways), shipment.c.demo_order_number.is_not(None), reached, shipment.c.customer_id.in_(visible))


def asked(actor: Actor, customer_id: int | None, admin_email: str | None,
          serial_numbers: list[str] | None) -> tuple[int | None, str | None, list[str] | None]:
    """`lookup`'s values for this actor: nothing asked (and nothing checked) for anyone but a partner's
    people and the trials team, who find nothing. `find`'s and the read planner's reading, in this order."""
    if not (actor.is_partner or actor.is_trials_team):
        return None, None, None
    return lookup(customer_id, admin_email, serial_numbers)


async def find(db: AsyncSession, actor: Actor, customer_id: int | None, admin_email: str | None,
               serial_numbers: list[str] | None) -> list[Shipment]:
    if not (actor.is_partner or actor.is_trials_team):
        return []
    found = condition(actor, Shipment.__table__, *asked(actor, customer_id, admin_email, serial_numbers))
    if isinstance(found, False_):
        return []
    return list(await db.scalars(select(Shipment).where(found).order_by(Shipment.id)))
