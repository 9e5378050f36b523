"""Who receives which email (SPEC §5, §8): one function per audience, so each rule lives once.

A recipient is (email, locale); locale is the person's own `locale` column (en or nb).

- Customer admins (R-TIME-01/02, R-PAID-01): FULL_ADMIN and ADMIN users still in the org.
- Customer users (R-TIME-04): every user of the org (USER too) still in the org.
- Partner admins (R-TIME-01/02): users of the *managing* partner of the trial with
  PARTNER_FULL_ADMIN, PARTNER_ADMIN or SALES_FULL_ADMIN, plus the user who started the trial;
  never read-only users (unless one of those roles), never another partner's users.
- Welcome (R-NEW-04): the customer's full admins (for a new customer: the admin email given).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerUser, RoleGrant, Trial, User
from server.enums import CustomerRole, Role

Recipient = tuple[str, str]

CUSTOMER_ADMIN_ROLES = (CustomerRole.FULL_ADMIN.value, CustomerRole.ADMIN.value)
PARTNER_ADMIN_ROLES = (Role.PARTNER_FULL_ADMIN.value, Role.PARTNER_ADMIN.value, Role.SALES_FULL_ADMIN.value)


def _unique(rows) -> list[Recipient]:
    return list(dict.fromkeys((email.lower(), locale or "en") for email, locale in rows))


async def customer_admins(db: AsyncSession, customer_id: int) -> list[Recipient]:
    """R-TIME-01/02: every customer admin (FULL_ADMIN, ADMIN) of the org."""
    rows = await db.execute(select(CustomerUser.email, CustomerUser.locale).where(
        CustomerUser.customer_id == customer_id, CustomerUser.moved_to_consumer_at.is_(None),
        CustomerUser.role.in_(CUSTOMER_ADMIN_ROLES)).order_by(CustomerUser.id))
    return _unique(rows)


async def customer_full_admins(db: AsyncSession, customer_id: int) -> list[Recipient]:
    """R-NEW-04: who gets the welcome email (falls back to every admin if no full admin exists)."""
    rows = list(await db.execute(select(CustomerUser.email, CustomerUser.locale).where(
        CustomerUser.customer_id == customer_id, CustomerUser.moved_to_consumer_at.is_(None),
        CustomerUser.role == CustomerRole.FULL_ADMIN.value).order_by(CustomerUser.id)))
    return _unique(rows) if rows else await customer_admins(db, customer_id)


async def customer_users(db: AsyncSession, customer_id: int) -> list[Recipient]:
    """R-TIME-04: every user of the org, admins and plain users alike."""
    rows = await db.execute(select(CustomerUser.email, CustomerUser.locale).where(
        CustomerUser.customer_id == customer_id, CustomerUser.moved_to_consumer_at.is_(None))
        .order_by(CustomerUser.id))
    return _unique(rows)


async def partner_admins(db: AsyncSession, trial: Trial) -> list[Recipient]:
    """R-TIME-01: the managing partner's admins and the user who started the trial."""
    admin_ids = select(RoleGrant.user_id).where(RoleGrant.role.in_(PARTNER_ADMIN_ROLES))
    condition = User.id.in_(admin_ids)
    if trial.started_by_user_id is not None:
        condition = condition | (User.id == trial.started_by_user_id)
    rows = await db.execute(select(User.email, User.locale).where(
        User.partner_id == trial.partner_id, User.active.is_(True), condition).order_by(User.id))
    return _unique(rows)
