"""Managing a running trial: edit (R-EDIT-01), extend (R-EXT-01), cancel (R-CANCEL-01) and the
customer's "I'm interested in buying" (R-BUY-01). Each move goes through lifecycle.transition(),
is audited with before/after and queues its emails in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import AuditEvent, Shipment, Trial, TrialService
from server.domain.core import audit
from server.domain.devices import shipments
from server.domain.trials import allowed
from server.domain.trials import availability
from server.domain.trials import lifecycle
from server.domain.notifications import notify
from server.domain.trials import options
from server.domain.timeline import deadlines as timeline
from server.domain.trials import start
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError, raise_all
from server.domain.trials.lifecycle import TrialEvent
from server.domain.notifications.outbox import EmailKind
from server.domain.core.permissions import Action
from server.domain.trials.options import DURATIONS, TrialRequest
from server.enums import ErrorCode, ServiceType, TrialState



async def live_services(db: AsyncSession, trial: Trial) -> list[TrialService]:
    return list(await db.scalars(select(TrialService).where(TrialService.trial_id == trial.id,
                                                            TrialService.removed_at.is_(None)).order_by(TrialService.id)))


async def devices_out(db: AsyncSession, trial: Trial) -> bool:
    return bool(await db.scalar(select(func.count()).select_from(Shipment).where(
        Shipment.trial_id == trial.id, Shipment.status.in_([s.value for s in shipments.OUT]))))


async def update_trial(db: AsyncSession, actor: Actor, trial_id: int | None, expected_version: int, *,
                       license_count: int | None, add: list[ServiceType], remove: list[ServiceType],
                       max_licenses: int) -> Trial:
    """R-EDIT-01: change the license count, add services (R-SVC-06) or remove them (their licenses go;
    DEVICES with devices out is refused). `expectedVersion` guards against lost updates."""
    trial = await visibility.get_trial(db, actor, trial_id, Action.MANAGE_TRIAL)
    if trial.version != expected_version:
        raise DomainError(ErrorCode.VERSION_CONFLICT, "Someone changed this trial meanwhile: reload and try again.",
                          "expectedVersion")
    services = await live_services(db, trial)
    before = start.snapshot(trial, services)
    have = {ServiceType(s.service) for s in services}
    add, remove = list(dict.fromkeys(add or [])), list(dict.fromkeys(remove or []))
    errors: list[DomainError] = []
    if license_count is not None:
        options.check_license_count(license_count, max_licenses, errors)
    if set(add) & set(remove):
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "A service cannot be added and removed at once.", "addServices"))
    errors += [DomainError(ErrorCode.INVALID_INPUT, f"{s.value} is already in the trial.", "addServices")
               for s in add if s in have]
    errors += [DomainError(ErrorCode.INVALID_INPUT, f"{s.value} is not in the trial.", "removeServices")
               for s in remove if s not in have]
    if not (have - set(remove)) | set(add):
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "A trial keeps at least one service.", "removeServices"))
    if license_count is None and not add and not remove:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Nothing to change.", "trialId"))
    raise_all(errors)
    if ServiceType.DEVICES in remove and await devices_out(db, trial):
        raise DomainError(ErrorCode.DEVICES_OUTSTANDING, "Devices are still out: remove DEVICES once they are "
                          "returned.", "removeServices")
    lifecycle.transition(trial, TrialEvent.EDITED)
    await availability.require(db, trial.customer_id, trial.partner_id, add, "addServices")
    if license_count is not None:
        trial.license_count = license_count
        for row in services:
            if row.service != ServiceType.DEVICES.value:
                row.license_count = license_count
    now = clock.now()
    for row in services:
        if ServiceType(row.service) in remove:
            row.removed_at, row.holds, row.license_count, row.site_url = now, False, None, None
    await db.flush()  # free the removed rows' holds before new rows take theirs
    request = TrialRequest(services=add, license_count=trial.license_count, duration_days=trial.duration_days)
    options.check(request, max_licenses) if add else None
    db.add_all([options.new_service(s, request, trial.id, trial.customer_id) for s in add])
    await options.flush_services(db)
    audit.record(db, actor, "trial.edited", "Trial", trial.id, customer_id=trial.customer_id, partner_id=trial.partner_id,
                 before=before, after=start.snapshot(trial, await live_services(db, trial)))
    return trial


async def extend_trial(db: AsyncSession, actor: Actor, trial_id: int | None, days: int) -> Trial:
    """R-EXT-01: the days are added to the current end date (65 left + 30 = 95); extending an
    expired trial in grace reactivates it. Grace and every end deadline move with the end."""
    trial = await visibility.get_trial(db, actor, trial_id, Action.MANAGE_TRIAL)
    if days not in DURATIONS:
        raise DomainError(ErrorCode.INVALID_DURATION, "Extend by 30, 60 or 90 days.", "days")
    before = start.snapshot(trial)
    lifecycle.transition(trial, TrialEvent.EXTENDED)
    trial.ends_at = trial.ends_at + timedelta(days=days)
    trial.grace_ends_at = trial.ends_at + timeline.GRACE
    await db.flush()
    await timeline.plan_trial(db, trial)
    audit.record(db, actor, "trial.extended", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before=before, after={**start.snapshot(trial), "days": days})
    return trial


MAX_BULK = 100


@dataclass
class Extension:
    """One trial's outcome in a bulk extend: the extended trial, or why it was refused."""
    trial_id: int | None
    trial: Trial | None = None
    error: DomainError | None = None


async def extend_trials(db: AsyncSession, actor: Actor, trial_ids: list[int | None], days: int) -> list[Extension]:
    """R-EXT-01 for many trials in one action: each trial through `extend_trial` (its
    permission and state checked per trial, R-ROLE-02), one outcome per trial, in the given order.

    Decision: one transaction with a SAVEPOINT per trial. A refused trial rolls back to its
    savepoint, so nothing of it is half-done, and the others still commit (together, with the
    clientMutationId's stored answer). Bad input for the whole call (no trial, too many, days not
    30/60/90) changes nothing and is raised. A trial listed twice is extended once."""
    if not trial_ids:
        raise DomainError(ErrorCode.INVALID_INPUT, "Pick at least one trial.", "trialIds")
    if len(trial_ids) > MAX_BULK:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Extend at most {MAX_BULK} trials at once.", "trialIds")
    if days not in DURATIONS:
        raise DomainError(ErrorCode.INVALID_DURATION, "Extend by 30, 60 or 90 days.", "days")
    outcomes: list[Extension] = []
    seen: set[int] = set()
    for trial_id in trial_ids:
        if trial_id in seen:
            outcomes.append(Extension(trial_id, error=DomainError(
                ErrorCode.INVALID_INPUT, "This trial is listed twice; it was extended once.", "trialIds")))
            continue
        if trial_id is not None:
            seen.add(trial_id)
        try:
            async with db.begin_nested():
                outcomes.append(Extension(trial_id, trial=await extend_trial(db, actor, trial_id, days)))
        except DomainError as error:
            outcomes.append(Extension(trial_id, error=error))
    return outcomes


async def cancel_trial(db: AsyncSession, actor: Actor, trial_id: int | None) -> Trial:
    """R-CANCEL-01: the partner, or a customer admin at any time. Services end now (holds and the
    site URL are freed, every deadline of the trial is cancelled) and device returns start.
    A trial still pending consent is withdrawn instead (R-EX-05)."""
    probe = await visibility.find_trial(db, actor, trial_id)
    action = allowed.cancel_action(actor)
    if probe is not None and probe.state == TrialState.PENDING_CONSENT.value and not actor.is_customer_admin:
        from server.domain.consent import requests as consent

        return await consent.withdraw(db, actor, trial_id)
    trial = await visibility.get_trial(db, actor, trial_id, action)
    before = start.snapshot(trial)
    lifecycle.transition(trial, TrialEvent.CANCELLED)
    trial.cancelled_at = clock.now()
    await start.release_holds(db, trial, free_site=True)
    await timeline.cancel(db, "Trial", trial.id)
    await shipments.start_returns(db, trial)            # R-RMA-01
    audit.record(db, actor, "trial.cancelled", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before=before, after=start.snapshot(trial))
    await notify.to_customer_admins(db, EmailKind.TRIAL_CANCELLED, trial, "cancelled")
    await notify.to_partner_admins(db, EmailKind.TRIAL_CANCELLED, trial, "cancelled")
    return trial


#: R-BUY-01's audit action: the history's line and the home page's "interested in buying" list.
PURCHASE_INTEREST_ACTION = "trial.purchase_interest"


async def express_purchase_interest(db: AsyncSession, actor: Actor, trial_id: int | None) -> Trial:
    """R-BUY-01: a customer admin's "I'm interested in buying" (on the Buy page, `/my/trials/{id}/buy`)
    emails the partner's admins. Idempotent per trial and day (UTC): a second click the same day, by
    any admin of the org, records nothing and queues nothing; the next day's click is news again."""
    trial = await visibility.get_trial(db, actor, trial_id, Action.CUSTOMER_INTEREST, for_update=True)
    if trial.state not in (TrialState.ACTIVE.value, TrialState.EXPIRED.value, TrialState.PENDING_PROVISIONING.value):
        raise DomainError(ErrorCode.INVALID_STATE, "This trial is over.", "trialId")
    if await _interest_recorded_since(db, trial, clock.now().replace(hour=0, minute=0, second=0, microsecond=0)):
        return trial
    audit.record(db, actor, PURCHASE_INTEREST_ACTION, "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, after={"by": actor.email})
    await notify.to_partner_admins(db, EmailKind.PURCHASE_INTEREST, trial,
                                   f"purchase_interest:{clock.today().isoformat()}", customer_admin=actor.email)
    return trial


async def _interest_recorded_since(db: AsyncSession, trial: Trial, since) -> bool:
    """Whether R-BUY-01's click for this trial is recorded since `since` (its partial index, migration 0008)."""
    return await db.scalar(select(AuditEvent.id).where(
        AuditEvent.action == PURCHASE_INTEREST_ACTION, AuditEvent.partner_id == trial.partner_id,
        AuditEvent.subject_id == trial.id, AuditEvent.subject_type == "Trial", AuditEvent.at >= since).limit(1)) is not None
