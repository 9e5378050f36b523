"""Device trial extensions (R-EXT-02): the partner asks, the trials team approves or denies.

Decisions:
- Devices may stay at most 120 days counted from the trial's first ship date. A request that
  would pass that is refused with DEVICE_TRIAL_LIMIT (saying how many days remain). An approval
  clamps to what remains when other approvals used some since (the request records the days
  actually granted and the note says so); nothing left → DEVICE_TRIAL_LIMIT.
- One open request per trial at a time; only trials with devices out can ask.
- Approving moves every open shipment's due date (and `return_by`, its deadlines); a shipment
  flagged RETURN_DUE or OVERDUE goes back to SHIPPED when its new due date is still ahead.
- The partner's admins (and the user who asked) get the decision by email.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import CustomerOrg, DeviceExtensionRequest, Shipment, Trial, User
from server.domain.core import audit
from server.domain.notifications import notify
from server.domain.notifications import outbox
from server.domain.timeline import deadlines as timeline
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError, not_found
from server.domain.notifications.outbox import EmailKind
from server.domain.core.permissions import Action
from server.domain.devices.shipments import OUT, RETURN_WINDOW, schedule_return, snapshot
from server.domain.timeline.deadlines import DeadlineKind
from server.enums import ErrorCode, ExtensionStatus, ShipmentStatus

DEVICE_LIMIT_DAYS = 120


async def _open_shipments(db: AsyncSession, trial_id: int) -> list[Shipment]:
    return list(await db.scalars(select(Shipment).where(
        Shipment.trial_id == trial_id, Shipment.status.in_([s.value for s in OUT])).order_by(Shipment.id)))


async def days_left(db: AsyncSession, trial_id: int) -> tuple[int, date | None]:
    """(days the devices may still be extended, the 120-day limit date) for a trial."""
    first = await db.scalar(select(func.min(Shipment.shipped_on)).where(Shipment.trial_id == trial_id))
    due = await db.scalar(select(func.max(Shipment.due_date)).where(
        Shipment.trial_id == trial_id, Shipment.status.in_([s.value for s in OUT])))
    if first is None or due is None:
        return 0, None
    limit = first + timedelta(days=DEVICE_LIMIT_DAYS)
    return max(0, (limit - due).days), limit


async def request_extension(db: AsyncSession, actor: Actor, trial_id: int | None, days: int,
                            reason: str | None) -> DeviceExtensionRequest:
    """R-EXT-02: a request to the trials team; never past 120 days from the first ship date."""
    trial = await visibility.get_trial(db, actor, trial_id, Action.MANAGE_TRIAL)
    if not isinstance(days, int) or not 1 <= days <= DEVICE_LIMIT_DAYS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Ask for 1 to {DEVICE_LIMIT_DAYS} days.", "days")
    if reason is not None and len(reason) > 2000:
        raise DomainError(ErrorCode.INVALID_INPUT, "Keep the reason under 2000 characters.", "reason")
    if not await _open_shipments(db, trial.id):
        raise DomainError(ErrorCode.INVALID_STATE, "This trial has no devices out to extend.", "trialId")
    if await db.scalar(select(exists(select(DeviceExtensionRequest.id).where(
            DeviceExtensionRequest.trial_id == trial.id,
            DeviceExtensionRequest.status == ExtensionStatus.PENDING.value)))):
        raise DomainError(ErrorCode.INVALID_STATE, "A device extension request is waiting for the trials team.",
                          "trialId")
    left, limit = await days_left(db, trial.id)
    if days > left:
        raise DomainError(ErrorCode.DEVICE_TRIAL_LIMIT, f"Devices can be on trial at most {DEVICE_LIMIT_DAYS} days "
                          f"(until {limit.isoformat()}): {left} days left to ask for.", "days")
    request = DeviceExtensionRequest(trial_id=trial.id, days=days, reason=(reason or "").strip() or None,
                                     status=ExtensionStatus.PENDING.value, requested_by_user_id=actor.user_id,
                                     created_at=clock.now())
    db.add(request)
    await db.flush()
    audit.record(db, actor, "device_extension.requested", "DeviceExtensionRequest", request.id,
                 customer_id=trial.customer_id, partner_id=trial.partner_id,
                 after={"trial_id": trial.id, "days": days, "reason": request.reason})
    return request


def _move_due_date(db: AsyncSession, shipment: Shipment, days: int, limit: date) -> None:
    shipment.due_date = min(shipment.due_date + timedelta(days=days), limit)
    shipment.return_by = shipment.due_date + RETURN_WINDOW
    if shipment.status in (ShipmentStatus.RETURN_DUE.value, ShipmentStatus.OVERDUE.value) \
            and shipment.due_date > clock.today():
        shipment.status = ShipmentStatus.SHIPPED.value
    elif shipment.status == ShipmentStatus.OVERDUE.value:
        shipment.status = ShipmentStatus.RETURN_DUE.value


async def decide_extension(db: AsyncSession, actor: Actor, request_id: int | None, approve: bool,
                           note: str | None) -> DeviceExtensionRequest:
    """R-EXT-02: the trials team approves (never past 120 days) or denies; the partner is emailed."""
    request = await db.get(DeviceExtensionRequest, request_id) if request_id is not None else None
    if request is None:
        raise not_found("device extension request", "requestId")
    try:
        trial = await visibility.get_trial(db, actor, request.trial_id, Action.DECIDE_DEVICE_EXTENSION)
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise not_found("device extension request", "requestId") from None
        raise
    if request.status != ExtensionStatus.PENDING.value:
        raise DomainError(ErrorCode.INVALID_STATE, "This request has been decided already.", "requestId")
    note = (note or "").strip() or None
    before = {"status": request.status, "days": request.days}
    if approve:
        shipments = await _open_shipments(db, trial.id)
        left, limit = await days_left(db, trial.id)
        if not shipments or left <= 0:
            raise DomainError(ErrorCode.DEVICE_TRIAL_LIMIT, f"Devices have reached {DEVICE_LIMIT_DAYS} days on trial: "
                              "deny the request instead.", "approve")
        granted = min(request.days, left)
        if granted < request.days:
            note = " ".join(filter(None, [note, f"Granted {granted} of {request.days} days: devices can be on trial at "
                                          f"most {DEVICE_LIMIT_DAYS} days."]))
        for shipment in shipments:
            shipment_before = snapshot(shipment)
            _move_due_date(db, shipment, granted, limit)
            await timeline.cancel(db, "Shipment", shipment.id, [DeadlineKind.RETURN_DUE, DeadlineKind.RETURN_OVERDUE])
            schedule_return(db, shipment)
            audit.record(db, actor, "shipment.due_date_extended", "Shipment", shipment.id, customer_id=trial.customer_id,
                         partner_id=trial.partner_id, before=shipment_before, after=snapshot(shipment))
        request.days = granted
        request.status = ExtensionStatus.APPROVED.value
    else:
        request.status = ExtensionStatus.DENIED.value
    request.note = note
    request.decided_by_user_id = actor.user_id
    request.decided_at = clock.now()
    audit.record(db, actor, "device_extension.decided", "DeviceExtensionRequest", request.id,
                 customer_id=trial.customer_id, partner_id=trial.partner_id, before=before,
                 after={"status": request.status, "days": request.days, "note": note})
    await _email_decision(db, trial, request)
    return request


async def _email_decision(db: AsyncSession, trial: Trial, request: DeviceExtensionRequest) -> None:
    due = await db.scalar(select(func.max(Shipment.due_date)).where(Shipment.trial_id == trial.id))
    details = dict(decision=request.status, status=request.status,
                   approved=request.status == ExtensionStatus.APPROVED.value, days=request.days, note=request.note or "",
                   device_due_date=due.isoformat() if due else "")
    event = f"device_extension:{request.id}"
    await notify.to_partner_admins(db, EmailKind.DEVICE_EXTENSION_DECIDED, trial, event, **details)
    asker = await db.get(User, request.requested_by_user_id) if request.requested_by_user_id else None
    if asker is not None and asker.partner_id == trial.partner_id:
        context = await notify.context_for(db, trial, **details)
        await outbox.enqueue(db, EmailKind.DEVICE_EXTENSION_DECIDED, asker.email, f"trial:{trial.id}:{event}", context,
                             locale=asker.locale, customer_id=trial.customer_id, trial_id=trial.id)


async def list_requests(db: AsyncSession, actor: Actor, status: ExtensionStatus | None) -> list[DeviceExtensionRequest]:
    """Trials team: every request (oldest first); partners: those of trials they can see."""
    if not actor.is_trials_team and not actor.is_partner:
        return []
    condition = requests_condition(actor, status.value if status is not None else None)
    return list(await db.scalars(select(DeviceExtensionRequest).where(condition).order_by(*requests_order())))


def requests_condition(actor: Actor, status: Any):
    """`list_requests` as a condition on device_extension_requests (also the planner's): `status` a
    value, a bound parameter or None (any status)."""
    conditions = [] if status is None else [DeviceExtensionRequest.status == status]
    if not actor.is_trials_team:
        if not actor.is_partner:
            return false()
        visible = select(Trial.id).where(visibility.trial_condition(actor), Trial.customer_id.in_(
            select(CustomerOrg.id).where(visibility.customer_condition(actor))))
        conditions.append(DeviceExtensionRequest.trial_id.in_(visible))
    return and_(true(), *conditions)


def requests_order() -> list:
    return [DeviceExtensionRequest.created_at, DeviceExtensionRequest.id]
