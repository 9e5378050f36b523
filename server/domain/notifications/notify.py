"""Who gets the emails the lifecycle mutations cause (SPEC §8), queued in the same transaction.

Decisions: "the partner's admins" (R-BUY-01, cancelled, converted) are the same people R-TIME-01
names, and "customer admins" are R-ROLE-04's admins: both audiences are defined once, in
`server/domain/notifications/recipients.py`.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerOrg, PartnerOrg, Trial
from server.domain.notifications import outbox
from server.domain.notifications import recipients
from server.domain.notifications.outbox import EmailKind


async def context_for(db: AsyncSession, trial: Trial, **extra: Any) -> dict[str, Any]:
    customer = await db.get(CustomerOrg, trial.customer_id)
    partner = await db.get(PartnerOrg, trial.partner_id)
    return {"customer_name": customer.name, "partner_name": partner.name, "trial_id": trial.id,
            "ends_at": trial.ends_at.date().isoformat() if trial.ends_at else None, **extra}


async def send(db: AsyncSession, kind: EmailKind, trial: Trial, people: list[recipients.Recipient], event: str,
               **extra: Any) -> None:
    """Queue `kind` to each (email, locale); `event` names the occurrence for the dedup key."""
    context = await context_for(db, trial, **extra)
    for email, locale in dict.fromkeys(people):
        await outbox.enqueue(db, kind, email, f"trial:{trial.id}:{event}", context, locale=locale,
                             customer_id=trial.customer_id, trial_id=trial.id)


async def to_customer_admins(db: AsyncSession, kind: EmailKind, trial: Trial, event: str, **extra: Any) -> None:
    await send(db, kind, trial, await recipients.customer_admins(db, trial.customer_id), event, **extra)


async def to_partner_admins(db: AsyncSession, kind: EmailKind, trial: Trial, event: str, **extra: Any) -> None:
    await send(db, kind, trial, await recipients.partner_admins(db, trial, kind), event, **extra)
