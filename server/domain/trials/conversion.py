"""R-CONV-01: convert a trial to paid with an order.

- Only tier-1 partners convert; a tier-2 partner gets CONTACT_DISTRIBUTOR, and its distributor may
  convert the tier-2 partner's trials.
- The provisioning email must be a partner user of the trial's partner or of the converting
  partner (not read-only) or an admin of the customer org, else PROVISIONING_EMAIL_MISMATCH.
- Every live trial service must be on the order, or `confirmOmitted` confirms their loss.
- Allowed while ACTIVE or EXPIRED (grace). Usage data and calling configuration stay: nothing but
  the trial's state, its holds and its deadlines change; ordered services become purchased.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import CustomerOrg, CustomerUser, PartnerOrg, PurchasedService, RoleGrant, Trial, User
from server.domain.core import audit
from server.domain.trials import lifecycle
from server.domain.notifications import notify
from server.domain.core import permissions
from server.domain.timeline import deadlines as timeline
from server.domain.trials import start
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.orgs.directory import normalize_email
from server.domain.core.errors import DomainError, not_found
from server.domain.trials.lifecycle import TrialEvent
from server.domain.notifications.outbox import EmailKind
from server.domain.core.permissions import Action
from server.domain.trials.changes import live_services
from server.enums import CustomerRole, ErrorCode, PartnerTier, Role, ServiceType, TrialState


async def _trial_for_converter(db: AsyncSession, actor: Actor, trial_id: int | None) -> tuple[Trial, PartnerOrg]:
    """The trial if the actor's partner owns it, or distributes for the tier-2 partner that does."""
    partner = await visibility.partner_of(db, actor)
    trial = await visibility.find_trial(db, actor, trial_id)
    if trial is None and trial_id is not None:
        candidate = await db.get(Trial, trial_id)
        owner = await db.get(PartnerOrg, candidate.partner_id) if candidate else None
        if owner is not None and owner.distributor_id == partner.id:
            permissions.require(actor, Action.MANAGE_TRIAL)
            return candidate, partner
    if trial is None:
        raise not_found("trial", "trialId")
    return await visibility.get_trial(db, actor, trial_id, Action.MANAGE_TRIAL), partner


async def _email_belongs(db: AsyncSession, email: str, trial: Trial, partner: PartnerOrg) -> bool:
    user = await db.scalar(select(User).where(User.email == email, User.active.is_(True),
                                              User.partner_id.in_([trial.partner_id, partner.id])))
    if user is not None:
        roles = set(await db.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user.id)))
        if roles - {Role.READ_ONLY.value}:
            return True
    admin = await db.scalar(select(CustomerUser.id).where(
        CustomerUser.email == email, CustomerUser.customer_id == trial.customer_id,
        CustomerUser.role.in_([CustomerRole.FULL_ADMIN.value, CustomerRole.ADMIN.value])))
    return admin is not None


async def convert_trial(db: AsyncSession, actor: Actor, trial_id: int | None, *, order_number: str,
                        provisioning_email: str, services: list[ServiceType], confirm_omitted: bool) -> Trial:
    trial, partner = await _trial_for_converter(db, actor, trial_id)
    if partner.tier != PartnerTier.TIER1.value:
        raise DomainError(ErrorCode.CONTACT_DISTRIBUTOR, "Tier-2 partners convert through their distributor.")
    if trial.state not in (TrialState.ACTIVE.value, TrialState.EXPIRED.value):
        raise DomainError(ErrorCode.INVALID_STATE, "Only an active trial or one in grace can be converted.", "trialId")
    if not order_number or not order_number.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "Enter the order number.", "orderNumber")
    email = normalize_email(provisioning_email, "provisioningEmail")
    if not await _email_belongs(db, email, trial, partner):
        raise DomainError(ErrorCode.PROVISIONING_EMAIL_MISMATCH, "The provisioning email must be a partner admin or "
                          "an admin of this customer; another address would create a new organization.",
                          "provisioningEmail")
    live = await live_services(db, trial)
    omitted = [s.service for s in live if ServiceType(s.service) not in services]
    if omitted and not confirm_omitted:
        raise DomainError(ErrorCode.SERVICES_OMITTED, f"The order leaves out {', '.join(omitted)}: confirm that the "
                          "customer loses them.", "services")
    before = start.snapshot(trial, live)
    lifecycle.transition(trial, TrialEvent.CONVERTED)
    trial.order_number, trial.converted_at = order_number.strip(), clock.now()
    await start.release_holds(db, trial)
    await db.flush()
    have = set(await db.scalars(select(PurchasedService.service).where(PurchasedService.customer_id == trial.customer_id)))
    db.add_all([PurchasedService(customer_id=trial.customer_id, service=s.value)
                for s in dict.fromkeys(services) if s.value not in have])
    customer = await db.get(CustomerOrg, trial.customer_id)
    customer.subscription_status = "ACTIVE"
    await timeline.cancel(db, "Trial", trial.id, timeline.TRIAL_END_KINDS)
    audit.record(db, actor, "trial.converted", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before=before,
                 after={**start.snapshot(trial), "order": trial.order_number, "services": [s.value for s in services],
                        "omitted": omitted, "provisioning_email": email})
    await notify.to_customer_admins(db, EmailKind.CONVERTED, trial, "converted", order_number=trial.order_number)
    await notify.to_partner_admins(db, EmailKind.CONVERTED, trial, "converted", order_number=trial.order_number)
    return trial
