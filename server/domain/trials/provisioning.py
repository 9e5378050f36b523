"""R-NEW-04: provisioning runs asynchronously (the PROVISION deadline, due now, picked up by the
sweep or kicked by the web app through the `provision_now` job); when done the customer admin gets
the welcome email with a sign-in link.

Decisions: provisioning here is the platform's own bookkeeping (org fixed to its data region,
services ready). It fails, with the reason in `customer.provisioning_error` and the status
UNABLE_TO_PROVISION, when the org cannot be set up as asked: no admin to own it, or an Enterprise
Meetings service without its site URL or time zone. The partner retries with `retry_provisioning`.
The welcome email goes to new customers only; an existing org's admins accepted the request
themselves and already sign in.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import CustomerOrg, Deadline, PartnerOrg, Trial, TrialService
from server.domain.core import audit
from server.domain.timeline import batch as due_trials
from server.domain.trials import lifecycle
from server.domain.notifications import outbox
from server.domain.notifications import recipients
from server.domain.timeline import deadlines as timeline
from server.domain.core.actor import SYSTEM, Actor
from server.domain.core.errors import DomainError
from server.domain.trials.lifecycle import TrialEvent
from server.domain.notifications.outbox import EmailKind
from server.enums import ErrorCode, MeetingsEdition, ProvisioningStatus, ServiceType, TrialKind, TrialState


class ProvisioningFailed(Exception):
    """The org cannot be provisioned as asked; the message is shown to the partner."""


async def locked_trial(db: AsyncSession, trial_id: int) -> Trial | None:
    """The trial, locked and re-read (a copy already in the session may predate set-based writes)."""
    return await db.scalar(select(Trial).where(Trial.id == trial_id).with_for_update()
                           .execution_options(populate_existing=True))


async def check(db: AsyncSession, trial: Trial, customer: CustomerOrg) -> None:
    """Raise ProvisioningFailed with the reason when the org cannot be set up."""
    if not await recipients.customer_admins(db, customer.id):
        raise ProvisioningFailed("The organization has no administrator to own it.")
    services = await db.scalars(select(TrialService).where(TrialService.trial_id == trial.id,
                                                           TrialService.removed_at.is_(None)))
    for service in services:
        if service.service == ServiceType.MEETINGS.value and service.meetings_edition == MeetingsEdition.ENTERPRISE.value \
                and not (service.site_url and service.time_zone):
            raise ProvisioningFailed("Enterprise Meetings needs a site URL and a time zone.")


async def provision(db: AsyncSession, trial_id: int) -> None:
    """Apply a PROVISION deadline; a trial no longer pending provisioning is left alone (idempotent)."""
    trial = await locked_trial(db, trial_id)
    if trial is None or trial.state != TrialState.PENDING_PROVISIONING.value:
        return
    customer = await db.get(CustomerOrg, trial.customer_id, with_for_update=True)
    before = {"state": trial.state, "provisioning": customer.provisioning_status}
    try:
        await check(db, trial, customer)
    except ProvisioningFailed as failure:
        customer.provisioning_status = ProvisioningStatus.UNABLE_TO_PROVISION.value
        customer.provisioning_error = str(failure)
        audit.record(db, SYSTEM, "customer.provisioning_failed", "Customer", customer.id, customer_id=customer.id,
                     partner_id=trial.partner_id, before=before,
                     after={"provisioning": customer.provisioning_status, "error": customer.provisioning_error})
        return
    lifecycle.transition(trial, TrialEvent.PROVISIONED)
    customer.provisioning_status = ProvisioningStatus.PROVISIONED.value
    customer.provisioning_error = None
    customer.region_locked = True                                 # R-GEO-01: fixed once provisioned
    audit.record(db, SYSTEM, "trial.provisioned", "Trial", trial.id, customer_id=customer.id,
                 partner_id=trial.partner_id, before=before,
                 after={"state": trial.state, "provisioning": customer.provisioning_status, "region": customer.region})
    if trial.kind == TrialKind.NEW_CUSTOMER.value:
        context = await trial_context(db, trial)
        for email, locale in await recipients.customer_full_admins(db, customer.id):
            await outbox.enqueue(db, EmailKind.WELCOME, email, f"trial:{trial.id}:welcome", context, locale=locale,
                                 customer_id=customer.id, trial_id=trial.id)


async def retry_provisioning(db: AsyncSession, actor: Actor, trial_id: int | None) -> Trial:
    """R-NEW-04 after UNABLE_TO_PROVISION: the partner (edit rights, R-ROLE-02) tries again; the
    PROVISION deadline is due at once."""
    from server.domain.core import visibility
    from server.domain.core.permissions import Action

    trial = await visibility.get_trial(db, actor, trial_id, Action.MANAGE_TRIAL)
    customer = await db.get(CustomerOrg, trial.customer_id)
    if trial.state != TrialState.PENDING_PROVISIONING.value \
            or customer.provisioning_status != ProvisioningStatus.UNABLE_TO_PROVISION.value:
        raise DomainError(ErrorCode.INVALID_STATE, "Only a trial that could not be provisioned can be retried.",
                          "trialId")
    before = {"provisioning": customer.provisioning_status, "error": customer.provisioning_error}
    customer.provisioning_status = ProvisioningStatus.PROVISIONING.value
    customer.provisioning_error = None
    await timeline.cancel(db, "Trial", trial.id, [timeline.DeadlineKind.PROVISION])
    timeline.schedule(db, timeline.DeadlineKind.PROVISION, "Trial", trial.id, clock.now())
    audit.record(db, actor, "customer.provisioning_retried", "Customer", customer.id, customer_id=customer.id,
                 partner_id=trial.partner_id, before=before, after={"provisioning": customer.provisioning_status})
    return trial


async def trial_context(db: AsyncSession, trial: Trial, **extra: Any) -> dict[str, Any]:
    customer = await db.get(CustomerOrg, trial.customer_id)
    partner = await db.get(PartnerOrg, trial.partner_id)
    return due_trials.context(trial, customer.name, partner.name, **extra)


async def on_provision(db: AsyncSession, deadline: Deadline) -> None:
    """R-NEW-04: the PROVISION deadline (due at start, or at once on a retry) runs `provision`."""
    await provision(db, deadline.subject_id)
