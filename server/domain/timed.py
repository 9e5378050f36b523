"""What happens when a deadline comes due (SPEC §5, R-EX-06, R-NEW-04). One handler per
DeadlineKind, registered with `@timeline.handles`; the sweep (jobs/sweep.py) calls them.

Every handler locks its subject, re-checks that the event still applies (state and date), moves
the trial through `lifecycle.transition`, audits as SYSTEM and queues its emails with dedup keys
naming the event and the date it is for, so a re-applied deadline changes nothing and sends
nothing twice. A stale deadline (the trial was extended, converted, cancelled) does nothing.

Decisions (SPEC silent):
- R-TIME-05 release moves the users to the consumer org, drops admin roles and the partner's
  access only when the org has nothing else: no purchased service and no other live trial. An
  existing paying customer keeps its org; only the trial's services are released.
- R-TIME-04: the access-ended email goes to every user of the org (USER role too). If the grace
  end handler runs first, it sends that email before the users move (same dedup key).
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import (
    ConsentRequest, CustomerOrg, CustomerUser, Deadline, PartnerAccessGrant, PartnerOrg, PurchasedService, Trial,
    TrialService,
)
from server.domain import audit, lifecycle, outbox, provisioning, recipients, timeline
from server.domain.actor import SYSTEM
from server.domain.lifecycle import TrialEvent
from server.domain.outbox import EmailKind
from server.domain.timeline import DeadlineKind
from server.enums import ConsentStatus, CustomerRole, TrialState


async def trial_context(db: AsyncSession, trial: Trial, **extra: Any) -> dict[str, Any]:
    customer = await db.get(CustomerOrg, trial.customer_id)
    partner = await db.get(PartnerOrg, trial.partner_id)
    return {"customer_name": customer.name, "partner_name": partner.name, "trial_id": trial.id,
            "ends_at": trial.ends_at.date().isoformat() if trial.ends_at else None, **extra}


async def send(db: AsyncSession, kind: EmailKind, trial: Trial, people: list[recipients.Recipient], event: str,
               context: dict[str, Any]) -> None:
    """Queue `kind` to each person once for `event` (the dedup key; outbox adds the recipient)."""
    for email, locale in people:
        await outbox.enqueue(db, kind, email, f"trial:{trial.id}:{event}", context, locale=locale,
                             customer_id=trial.customer_id, trial_id=trial.id)


def _day(value) -> str:
    return f"{value:%Y-%m-%d}"


async def _trial(db: AsyncSession, deadline: Deadline) -> Trial | None:
    return await provisioning.locked_trial(db, deadline.subject_id)


def _grace_end(trial: Trial):
    return trial.grace_ends_at or (trial.ends_at + timeline.GRACE)


@timeline.handles(DeadlineKind.PROVISION)
async def on_provision(db: AsyncSession, deadline: Deadline) -> None:
    """R-NEW-04."""
    await provisioning.provision(db, deadline.subject_id)


@timeline.handles(DeadlineKind.TRIAL_WARNING)
async def on_trial_warning(db: AsyncSession, deadline: Deadline) -> None:
    """R-TIME-01: 7 days before the end, customer admins (with the Buy link) and partner admins."""
    trial = await _trial(db, deadline)
    if trial is None or trial.state != TrialState.ACTIVE.value \
            or trial.ends_at - timeline.WARNING_BEFORE_END > clock.now():
        return
    context = await trial_context(db, trial)
    end = _day(trial.ends_at)
    await send(db, EmailKind.WARNING_CUSTOMER, trial, await recipients.customer_admins(db, trial.customer_id),
               f"warning_customer:{end}", context)
    await send(db, EmailKind.WARNING_PARTNER, trial, await recipients.partner_admins(db, trial),
               f"warning_partner:{end}", context)
    audit.record(db, SYSTEM, "trial.warning_sent", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, after={"ends_at": trial.ends_at.isoformat()})


@timeline.handles(DeadlineKind.TRIAL_EXPIRY)
async def on_trial_expiry(db: AsyncSession, deadline: Deadline) -> None:
    """R-TIME-02: on the end day the trial is EXPIRED (grace begins) and both emails go out again."""
    trial = await _trial(db, deadline)
    if trial is None or trial.state != TrialState.ACTIVE.value or trial.ends_at > clock.now():
        return
    before, after = lifecycle.transition(trial, TrialEvent.EXPIRED)
    audit.record(db, SYSTEM, "trial.expired", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before={"state": before}, after={"state": after})
    context = await trial_context(db, trial, grace_ends_at=_day(_grace_end(trial)))
    end = _day(trial.ends_at)
    await send(db, EmailKind.EXPIRED_CUSTOMER, trial, await recipients.customer_admins(db, trial.customer_id),
               f"expired_customer:{end}", context)
    await send(db, EmailKind.EXPIRED_PARTNER, trial, await recipients.partner_admins(db, trial),
               f"expired_partner:{end}", context)


async def _access_ended(db: AsyncSession, trial: Trial) -> None:
    context = await trial_context(db, trial)
    await send(db, EmailKind.ACCESS_ENDED, trial, await recipients.customer_users(db, trial.customer_id),
               f"access_ended:{_day(_grace_end(trial))}", context)


def _grace_over(trial: Trial | None) -> bool:
    return trial is not None and trial.state == TrialState.EXPIRED.value and _grace_end(trial) <= clock.now()


@timeline.handles(DeadlineKind.USERS_ACCESS_ENDED)
async def on_users_access_ended(db: AsyncSession, deadline: Deadline) -> None:
    """R-TIME-04: 30 days after the end (not converted, not extended) every user is told."""
    trial = await _trial(db, deadline)
    if _grace_over(trial):
        await _access_ended(db, trial)
        audit.record(db, SYSTEM, "trial.users_access_ended", "Trial", trial.id, customer_id=trial.customer_id,
                     partner_id=trial.partner_id)


async def _org_keeps_living(db: AsyncSession, trial: Trial) -> bool:
    """True when the org has purchased services or another live trial (then only this trial goes)."""
    purchased = exists(select(PurchasedService.service).where(PurchasedService.customer_id == trial.customer_id))
    other = exists(select(Trial.id).where(Trial.customer_id == trial.customer_id, Trial.id != trial.id,
                                          Trial.state.in_([s.value for s in lifecycle.HOLDING_STATES])))
    return bool(await db.scalar(select(purchased | other)))


@timeline.handles(DeadlineKind.GRACE_END)
async def on_grace_end(db: AsyncSession, deadline: Deadline) -> None:
    """R-TIME-05/06: after grace with no conversion the trial is RELEASED for good: licenses and the
    Meetings site URL are freed, users move to the consumer org, admin roles and the partner's access
    go, calling stops (numbers kept 15 days) and device returns start."""
    trial = await _trial(db, deadline)
    if not _grace_over(trial):
        return
    await _access_ended(db, trial)
    now = clock.now()
    before, after = lifecycle.transition(trial, TrialEvent.RELEASED)
    trial.released_at = now
    await db.execute(update(TrialService).where(TrialService.trial_id == trial.id)
                     .values(holds=False, site_url=None))
    whole_org = not await _org_keeps_living(db, trial)
    if whole_org:
        await db.execute(update(CustomerUser).where(CustomerUser.customer_id == trial.customer_id,
                                                    CustomerUser.moved_to_consumer_at.is_(None))
                         .values(moved_to_consumer_at=now, role=CustomerRole.USER.value))
        await db.execute(delete(PartnerAccessGrant).where(PartnerAccessGrant.customer_id == trial.customer_id,
                                                          PartnerAccessGrant.partner_id == trial.partner_id))
        await db.execute(update(CustomerOrg).where(CustomerOrg.id == trial.customer_id,
                                                   CustomerOrg.managing_partner_id == trial.partner_id)
                         .values(managing_partner_id=None))
    await _call_optional("server.domain.calling", "on_grace_end", db, trial)
    await _call_optional("server.domain.shipments", "start_returns", db, trial)
    audit.record(db, SYSTEM, "trial.released", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before={"state": before},
                 after={"state": after, "users_moved_to_consumer": whole_org})


async def _call_optional(module: str, name: str, *args) -> None:
    """Other areas' hooks (calling, shipments), called when they exist."""
    import importlib

    try:
        target = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return
    await target(*args)


@timeline.handles(DeadlineKind.CONSENT_TIMEOUT)
async def on_consent_timeout(db: AsyncSession, deadline: Deadline) -> None:
    """R-EX-06: 30 days without an answer: the request EXPIRES (its links die), the trial is
    CANCELLED, its services no longer hold, and the customer leaves the partner's list."""
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
