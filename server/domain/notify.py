"""Who gets the emails the lifecycle mutations cause (SPEC §8), queued in the same transaction.

Decisions: "the partner's admins" (R-BUY-01, cancelled, converted) are the same people R-TIME-01
names: partner full admins, partner admins, sales full admins and the user who started the trial;
never read-only users. "Customer admins" are FULL_ADMIN and ADMIN users of the org (R-ROLE-04).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerOrg, PartnerOrg, RoleGrant, Trial, User
from server.domain import outbox
from server.domain.customers import customer_admins
from server.domain.outbox import EmailKind
from server.enums import Role

PARTNER_ADMIN_ROLES = (Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN)


async def partner_admins(db: AsyncSession, trial: Trial) -> list[User]:
    admins = set(await db.scalars(select(RoleGrant.user_id).where(RoleGrant.role.in_([r.value for r in PARTNER_ADMIN_ROLES]))))
    if trial.started_by_user_id:
        admins.add(trial.started_by_user_id)
    if not admins:
        return []
    return list(await db.scalars(select(User).where(User.partner_id == trial.partner_id, User.active.is_(True),
                                                    User.id.in_(admins)).order_by(User.id)))


async def context_for(db: AsyncSession, trial: Trial, **extra: Any) -> dict[str, Any]:
    customer = await db.get(CustomerOrg, trial.customer_id)
    partner = await db.get(PartnerOrg, trial.partner_id)
    return {"customer_name": customer.name, "partner_name": partner.name, "trial_id": trial.id,
            "ends_at": trial.ends_at.date().isoformat() if trial.ends_at else None, **extra}


async def send(db: AsyncSession, kind: EmailKind, trial: Trial, recipients: list[tuple[str, str]], event: str,
               **extra: Any) -> None:
    """Queue `kind` to each (email, locale); `event` names the occurrence for the dedup key."""
    context = await context_for(db, trial, **extra)
    for email, locale in dict.fromkeys(recipients):
        await outbox.enqueue(db, kind, email, f"trial:{trial.id}:{event}", context, locale=locale,
                             customer_id=trial.customer_id, trial_id=trial.id)


async def to_customer_admins(db: AsyncSession, kind: EmailKind, trial: Trial, event: str, **extra: Any) -> None:
    await send(db, kind, trial, [(u.email, u.locale) for u in await customer_admins(db, trial.customer_id)], event,
               **extra)


async def to_partner_admins(db: AsyncSession, kind: EmailKind, trial: Trial, event: str, **extra: Any) -> None:
    await send(db, kind, trial, [(u.email, u.locale) for u in await partner_admins(db, trial)], event, **extra)
