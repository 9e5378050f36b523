"""R-EX-06: a consent request nobody answered in 30 days times out (the CONSENT_TIMEOUT deadline,
planned when the request is sent; server/domain/deadline_handlers.py lists it)."""
from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import ConsentRequest, CustomerOrg, Deadline, PartnerAccessGrant, TrialService, User
from server.domain.core import audit
from server.domain.core.actor import SYSTEM
from server.domain.notifications import notify
from server.domain.notifications.outbox import EmailKind
from server.domain.timeline import deadlines as timeline
from server.domain.trials import lifecycle, provisioning
from server.domain.trials.lifecycle import TrialEvent
from server.enums import ConsentStatus


async def on_consent_timeout(db: AsyncSession, deadline: Deadline) -> None:
    """R-EX-06: 30 days without an answer: the request EXPIRES (its links die), the trial is
    CANCELLED, its services no longer hold, and the customer leaves the partner's list. The partner
    user who sent it gets an email saying so (it would otherwise vanish from their list unexplained)."""
    request = await db.scalar(select(ConsentRequest).where(ConsentRequest.id == deadline.subject_id).with_for_update())
    if request is None or request.status != ConsentStatus.PENDING.value or request.expires_at > clock.now():
        return
    trial = await provisioning.locked_trial(db, request.trial_id)
    consent_before, consent_after = lifecycle.consent_transition(request, TrialEvent.CONSENT_TIMED_OUT)
    request.nonce = secrets.token_hex(16)
    request.decided_at = clock.now()
    before, after = lifecycle.transition(trial, TrialEvent.CONSENT_TIMED_OUT)
    trial.cancelled_at = clock.now()
    await db.execute(update(TrialService).where(TrialService.trial_id == trial.id).values(holds=False, site_url=None))
    await timeline.cancel(db, "Trial", trial.id)
    grant = await db.get(PartnerAccessGrant, (request.customer_id, request.partner_id))
    if grant is not None and grant.granted_at >= request.created_at:
        await db.delete(grant)
        await db.execute(update(CustomerOrg).where(CustomerOrg.id == request.customer_id,
                                                   CustomerOrg.managing_partner_id == request.partner_id)
                         .values(managing_partner_id=None))
    audit.record(db, SYSTEM, "consent.consent_timed_out", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before={"state": before, "consent": consent_before},
                 after={"state": after, "consent": consent_after})
    requester = await db.get(User, trial.started_by_user_id) if trial.started_by_user_id else None
    if requester is not None and requester.active:  # the partner who asked hears it by email too, not only by webhook
        await notify.send(db, EmailKind.CONSENT_LAPSED, trial, [(requester.email, requester.locale or "en")],
                          "consent_lapsed", admin_email=request.admin_email)
