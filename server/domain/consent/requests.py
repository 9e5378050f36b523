"""The existing-customer flow: consent request, resend, accept, decline, withdraw (R-EX-01..06).

A consent link is signed (purpose "consent", payload {request, nonce, email}), single-use
(`redeem_link` consumes it) and dies with the request: every resend and every decision replaces
the request's nonce, so older links stop working. The trial's dates start at acceptance.
Decision: any admin (FULL_ADMIN or ADMIN) of the org may accept or decline; a partner that already
manages the org uses addTrialToPaidCustomer instead (INVALID_STATE here).
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.auth import links
from server.db.models import ConsentRequest, CustomerOrg, CustomerUser, PartnerAccessGrant, Trial
from server.domain.core import audit
from server.domain.trials import availability
from server.domain.orgs import customers
from server.domain.trials import lifecycle
from server.domain.notifications import notify
from server.domain.notifications import outbox
from server.domain.trials import options
from server.domain.timeline import deadlines as timeline
from server.domain.trials import start
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError, raise_all
from server.domain.trials.lifecycle import TrialEvent
from server.domain.notifications.outbox import EmailKind
from server.domain.core.permissions import Action
from server.domain.trials.options import TrialRequest
from server.enums import ConsentStatus, CustomerRole, ErrorCode, PartnerAccess, ProvisioningStatus, TrialKind, TrialState

PURPOSE = "consent"
LINK_MAX_AGE = int(timeline.CONSENT_WINDOW.total_seconds())


def link_url(settings: Any, request: ConsentRequest, email: str) -> str:
    token = links.sign(settings.secret_key, PURPOSE, {"request": request.id, "nonce": request.nonce, "email": email})
    return f"{settings.base_url.rstrip('/')}/consent/{token}"


async def recipients(db: AsyncSession, customer_id: int, email: str) -> list[CustomerUser]:
    """R-EX-03: a full admin alone; otherwise that address and every admin of the org."""
    admins = await customers.customer_admins(db, customer_id)
    named = [u for u in admins if u.email == email]
    if named and named[0].role == CustomerRole.FULL_ADMIN.value:
        return named
    user = await db.scalar(select(CustomerUser).where(CustomerUser.email == email))
    return list({u.id: u for u in ([user] if user else []) + admins}.values())


async def _send(db: AsyncSession, settings: Any, trial: Trial, request: ConsentRequest, kind: EmailKind) -> None:
    context = await notify.context_for(db, trial, expires_at=request.expires_at.date().isoformat())
    for user in await recipients(db, request.customer_id, request.admin_email):
        await outbox.enqueue(db, kind, user.email, f"trial:{trial.id}:{kind.value}:{request.id}:{request.sent_count}",
                             {**context, "consent_url": link_url(settings, request, user.email)},
                             locale=user.locale, customer_id=trial.customer_id, trial_id=trial.id)


#: The vertical an org has when nobody said which (the CLI's and demo's default).
UNKNOWN_VERTICAL = "Other"


def _vertical_learned(customer: CustomerOrg, form: start.CustomerForm) -> str | None:
    """R-EX-01: the vertical the partner picked becomes the org's when the org's is unknown ("Other"):
    the request keeps what was typed (an org whose vertical is known keeps its own: it is the org's
    fact, not one partner's guess). The org's name stays its own: the partner confirmed it (R-EX-01)."""
    if customer.business_vertical not in ("", None, UNKNOWN_VERTICAL) or form.business_vertical == UNKNOWN_VERTICAL:
        return None
    customer.business_vertical = form.business_vertical
    return form.business_vertical


async def request_trial(db: AsyncSession, actor: Actor, form: start.CustomerForm, request: TrialRequest, *,
                        settings: Any) -> Trial:
    """R-EX-01..03: a trial pending the customer's consent, and the consent request email."""
    partner = await start.startable_partner(db, actor)
    errors: list[DomainError] = []
    email, _country = start.check_form(form, errors)
    try:
        options.check(request, settings.max_license_count, errors)
    except DomainError as error:
        errors = error.errors
    raise_all(errors)
    customer = await customers.lookup_existing_org(db, actor, email)  # R-EX-01: counted and audited
    if customer is None:
        raise DomainError(ErrorCode.NOT_AN_EXISTING_ORG, "This email does not belong to an existing organization: "
                          "check the email and go back.", "adminEmail")
    await start.refuse_own_org(db, partner, email=email, customer_id=customer.id)
    if customer.managing_partner_id == partner.id:
        raise DomainError(ErrorCode.INVALID_STATE, "You manage this customer already: add a trial to it instead.",
                          "adminEmail")
    await availability.require(db, customer.id, partner.id, request.services)
    vertical = _vertical_learned(customer, form)
    trial = await start.create_trial(db, actor, customer, request, kind=TrialKind.EXISTING_CUSTOMER,
                                      state=TrialState.PENDING_CONSENT)
    now = clock.now()
    consent = ConsentRequest(trial_id=trial.id, customer_id=customer.id, partner_id=partner.id, admin_email=email,
                             status=ConsentStatus.PENDING.value, nonce=secrets.token_hex(16),
                             expires_at=now + timeline.CONSENT_WINDOW, sent_count=1, created_at=now)
    db.add(consent)
    await db.flush()
    timeline.schedule(db, timeline.DeadlineKind.CONSENT_TIMEOUT, "ConsentRequest", consent.id, consent.expires_at)
    audit.record(db, actor, "consent.requested", "ConsentRequest", consent.id, customer_id=customer.id,
                 after={"trial": trial.id, "email": email, **({"business_vertical": vertical} if vertical else {})})
    await _send(db, settings, trial, consent, EmailKind.CONSENT_REQUEST)
    return trial


async def pending_request(db: AsyncSession, trial: Trial) -> ConsentRequest:
    request = await db.scalar(select(ConsentRequest).where(ConsentRequest.trial_id == trial.id,
                                                           ConsentRequest.status == ConsentStatus.PENDING.value))
    if request is None or trial.state != TrialState.PENDING_CONSENT.value:
        raise DomainError(ErrorCode.INVALID_STATE, "This trial is not waiting for the customer's consent.", "trialId")
    return request


async def resend(db: AsyncSession, actor: Actor, trial_id: int | None, *, settings: Any) -> Trial:
    """R-EX-05: the consent email again (a reminder); older links die."""
    trial = await visibility.get_trial(db, actor, trial_id, Action.MANAGE_TRIAL)
    request = await pending_request(db, trial)
    request.sent_count += 1
    request.nonce = secrets.token_hex(16)
    audit.record(db, actor, "consent.resent", "ConsentRequest", request.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, after={"sent_count": request.sent_count})
    await _send(db, settings, trial, request, EmailKind.CONSENT_REMINDER)
    return trial


async def _close(db: AsyncSession, actor: Actor, trial: Trial, request: ConsentRequest, event: TrialEvent) -> None:
    before, _ = lifecycle.consent_transition(request, event)
    state_before, state_after = lifecycle.transition(trial, event)
    request.nonce = secrets.token_hex(16)
    request.decided_at = clock.now()
    request.decided_by_email = actor.email
    await timeline.cancel(db, "ConsentRequest", request.id)
    if state_after not in lifecycle.HOLDING_STATES:
        trial.cancelled_at = clock.now()
        await start.release_holds(db, trial, free_site=True)
    audit.record(db, actor, f"consent.{event.value}", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before={"state": state_before, "consent": before},
                 after={"state": state_after, "consent": request.status})


async def accept(db: AsyncSession, actor: Actor, trial_id: int | None, grant_full_admin: bool) -> Trial:
    """R-EX-04/05: full admin or provisioning admin for the partner; the customer joins the partner's
    list; the trial's dates start now and provisioning begins."""
    trial = await visibility.get_trial(db, actor, trial_id, Action.CUSTOMER_CONSENT)
    request = await pending_request(db, trial)
    request.grant_full_admin = grant_full_admin
    await _close(db, actor, trial, request, TrialEvent.CONSENT_ACCEPTED)
    customer = await db.get(CustomerOrg, trial.customer_id)
    access = PartnerAccess.FULL_ADMIN if grant_full_admin else PartnerAccess.PROVISIONING_ADMIN
    grant = await db.get(PartnerAccessGrant, (trial.customer_id, trial.partner_id))
    if grant is None:
        db.add(PartnerAccessGrant(customer_id=trial.customer_id, partner_id=trial.partner_id, access=access.value,
                                  granted_at=clock.now()))
    else:
        grant.access, grant.granted_at = access.value, clock.now()
    before = {"managing_partner": customer.managing_partner_id, "provisioning": customer.provisioning_status}
    customer.managing_partner_id = trial.partner_id
    customer.provisioning_status = ProvisioningStatus.PROVISIONING.value
    start.start_clock(trial)
    await db.flush()
    await timeline.plan_trial(db, trial)
    timeline.schedule(db, timeline.DeadlineKind.PROVISION, "Trial", trial.id, clock.now())
    audit.record(db, actor, "partner_access.granted", "Customer", customer.id, customer_id=customer.id,
                 partner_id=trial.partner_id, before=before,
                 after={"managing_partner": trial.partner_id, "access": access.value})
    return trial


async def decline(db: AsyncSession, actor: Actor, trial_id: int | None) -> Trial:
    """R-EX-04: a customer admin declines; the customer leaves the partner's list."""
    trial = await visibility.get_trial(db, actor, trial_id, Action.CUSTOMER_CONSENT)
    await _close(db, actor, trial, await pending_request(db, trial), TrialEvent.CONSENT_DECLINED)
    return trial


async def withdraw(db: AsyncSession, actor: Actor, trial_id: int | None) -> Trial:
    """R-EX-05 "cancel and delete": the request is cancelled and the customer leaves the partner's list.
    Decision: the trial row stays (CANCELLED) for the audit trail; it no longer lists the customer."""
    trial = await visibility.get_trial(db, actor, trial_id, Action.MANAGE_TRIAL)
    await _close(db, actor, trial, await pending_request(db, trial), TrialEvent.REQUEST_WITHDRAWN)
    return trial


async def redeem_link(db: AsyncSession, settings: Any, token: str) -> tuple[CustomerUser, ConsentRequest]:
    """Open a consent link once: (the customer admin to sign in, the request). LinkError("invalid",
    "expired", "used") when signature, age, nonce, request state or recipient do not match."""
    payload = links.verify(settings.secret_key, PURPOSE, token, LINK_MAX_AGE)
    request = await db.get(ConsentRequest, payload.get("request"))
    if request is None or request.status != ConsentStatus.PENDING.value or request.nonce != payload.get("nonce"):
        raise links.LinkError("invalid")
    if request.expires_at <= clock.now():
        raise links.LinkError("expired")
    user = await db.scalar(select(CustomerUser).where(CustomerUser.email == payload.get("email"),
                                                      CustomerUser.customer_id == request.customer_id))
    if user is None:
        raise links.LinkError("invalid")
    await links.consume(db, payload["jti"])
    return user, request
