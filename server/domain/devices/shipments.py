"""Devices on trial: requesting and recording shipments (R-DEV-01, R-DEV-02, R-RMA-01).

Decisions (SPEC is silent):
- A shipment may be requested while the trial is PENDING_PROVISIONING or ACTIVE and includes
  DEVICES; the start wizard may also order for a trial still pending consent (`request_shipments`).
- The device due date is `shipped_on + trial duration` (the devices get the full trial length from
  the day they ship, whatever the trial's end date); returns are due 14 days later (`return_by`).
- Carriers by the customer's country: UPS in the US, DHL for Canada and EMEAR (geography.EMEA plus
  GB, SA, AE), Expeditors for Australia and New Zealand; elsewhere no carrier: the customer
  contacts the trials team.
- Serial numbers are stripped and upper-cased; one per item, unique on the platform.
- Choosing a skip option (`skip_devices`) is allowed only while nothing has been requested;
  requesting a shipment clears an earlier skip.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import CustomerOrg, DeviceModel, Shipment, ShipmentItem, Trial, TrialService
from server.domain.core import audit
from server.domain.devices import catalog, delivery
from server.domain.orgs import geography
from server.domain.notifications import notify
from server.domain.core import permissions
from server.domain.timeline import deadlines as timeline
from server.domain.core import visibility
from server.domain.core.actor import SYSTEM, Actor
from server.domain.core.errors import DomainError, not_found, raise_all
from server.domain.core.permissions import Action
from server.domain.notifications.outbox import EmailKind
from server.domain.timeline.deadlines import DeadlineKind
from server.enums import DeviceSkip, ErrorCode, ServiceType, ShipmentStatus, TrialState

RETURN_WINDOW = timeline.RETURN_WINDOW
#: Devices are at the customer (R-EDIT-01: DEVICES cannot be removed; a return is open).
OUT = (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED, ShipmentStatus.RETURN_DUE, ShipmentStatus.RETURN_MISMATCH,
       ShipmentStatus.OVERDUE)
REQUESTABLE_STATES = (TrialState.PENDING_PROVISIONING, TrialState.ACTIVE)
EMEAR = geography.EMEA | {"GB", "SA", "AE"}
POE_MESSAGE = "Phones come without power supplies: confirm PoE at the site or contact the trials team."


# --- carriers and return instructions (R-DEV-02, R-RMA-01) ---------------------------------------

def carrier_for(country: str) -> str | None:
    code = (country or "").upper()
    if code == "US":
        return "UPS"
    if code == "CA" or code in EMEAR:
        return "DHL"
    if code in ("AU", "NZ"):
        return "Expeditors"
    return None


def return_instructions(country: str, demo_order_number: str | None = None) -> str:
    """What the customer does to send devices back, by country (told in the device license email)."""
    carrier = carrier_for(country)
    order = f" Quote demo order number {demo_order_number}." if demo_order_number else ""
    if carrier == "UPS":
        return ("Each box holds a prepaid UPS return label: put it on the box and call UPS for a pickup. "
                "Lost the label? Your partner can request a new one." + order)
    if carrier is not None:
        return f"Contact {carrier} to arrange the pickup." + order
    return "Contact the trials team to arrange the return." + order


def at_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# --- loading with tenant scope ---------------------------------------------------------------------

async def get_shipment(db: AsyncSession, actor: Actor, shipment_id: int | None, action: Action) -> tuple[Shipment, Trial]:
    """The shipment and its trial, or NOT_FOUND when missing or another partner's (R-ORG-02)."""
    shipment = await db.get(Shipment, shipment_id) if shipment_id is not None else None
    if shipment is None:
        raise not_found("shipment", "shipmentId")
    try:
        trial = await visibility.get_trial(db, actor, shipment.trial_id, action)
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise not_found("shipment", "shipmentId") from None
        raise
    if db.bind.dialect.name == "postgresql":
        await db.refresh(shipment, with_for_update=True)
    return shipment, trial


def snapshot(shipment: Shipment) -> dict[str, Any]:
    return {"status": shipment.status, "device_type": shipment.device_type, "model": shipment.model,
            "quantity": shipment.quantity, "demo_order_number": shipment.demo_order_number,
            "carrier": shipment.carrier, "shipped_on": _iso(shipment.shipped_on), "due_date": _iso(shipment.due_date),
            "return_by": _iso(shipment.return_by), "mismatch": shipment.mismatch}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _get(device: Any, name: str, default: Any = None) -> Any:
    """Devices come as dicts or objects (the wizard's DeviceOrder)."""
    if isinstance(device, dict):
        return device.get(name, default)
    return getattr(device, name, default)


# --- R-DEV-01: requesting ------------------------------------------------------------------------

async def _check_devices(db: AsyncSession, trial: Trial, devices: list, fields: list[list[str]]
                         ) -> list[delivery.Delivery | None]:
    """Every problem of the devices at once (catalog, R-DEV-01's rules, the delivery), or each one's
    checked delivery."""
    errors: list[DomainError] = []
    taken = set(await db.scalars(select(Shipment.device_type).where(Shipment.trial_id == trial.id)))
    country = (await db.get(CustomerOrg, trial.customer_id)).country
    seen: set[str] = set()
    deliveries, delivery_errors = [], []
    for device, field in zip(devices, fields, strict=True):
        checked, problems = delivery.check(_get(device, "shipping_address"), _get(device, "contact"), country, field)
        deliveries.append(checked)
        delivery_errors += problems
        kind, name = str(_get(device, "type", "") or ""), str(_get(device, "model", "") or "").strip()
        model = await db.get(DeviceModel, name) if name else None
        if model is None or model.type != kind:
            errors.append(DomainError(ErrorCode.INVALID_INPUT, f"'{name}' is not a {kind.replace('_', ' ').lower() or 'device'}"
                                      " model in the device catalog.", [*field, "model"]))
            continue
        if not catalog.within_limit(model, _get(device, "quantity")):
            errors.append(DomainError(ErrorCode.INVALID_INPUT, catalog.limit_message(model), [*field, "quantity"]))
        if model.type in taken or model.type in seen:
            errors.append(DomainError(ErrorCode.SHIPMENT_EXISTS, f"This trial has a {model.type.replace('_', ' ').lower()}"
                                      " shipment already: one shipment per device type.", [*field, "type"]))
        seen.add(model.type)
        if model.needs_poe and not _get(device, "poe_confirmed", False):
            errors.append(DomainError(ErrorCode.POE_NOT_CONFIRMED, POE_MESSAGE, [*field, "poeConfirmed"]))
    raise_all(errors + delivery_errors)
    return deliveries


async def _add_shipments(db: AsyncSession, actor: Actor, trial: Trial, devices: list,
                         deliveries: list[delivery.Delivery | None]) -> list[Shipment]:
    customer = await db.get(CustomerOrg, trial.customer_id)
    now = clock.now()
    rows = [Shipment(trial_id=trial.id, customer_id=trial.customer_id, device_type=str(_get(d, "type")),
                     model=str(_get(d, "model")).strip(), quantity=_get(d, "quantity"),
                     poe_confirmed=bool(_get(d, "poe_confirmed", False)), status=ShipmentStatus.REQUESTED.value,
                     country=customer.country, return_labels_requested=0, created_at=now, **delivery.columns(to))
            for d, to in zip(devices, deliveries, strict=True)]
    try:
        async with db.begin_nested():
            db.add_all(rows)
            await db.flush()
    except IntegrityError:  # a concurrent request for the same device type won the race
        raise DomainError(ErrorCode.SHIPMENT_EXISTS, "One shipment per device type per trial.", "device") from None
    trial.device_skip = None
    for row in rows:
        audit.record(db, actor, "shipment.requested", "Shipment", row.id, customer_id=trial.customer_id,
                     partner_id=trial.partner_id, after=snapshot(row))
    return rows


async def request_shipments(db: AsyncSession, actor: Actor, trial: Trial, devices: list) -> list[Shipment]:
    """R-DEV-01 for the devices picked in the start wizard (dicts or objects with type, model,
    quantity, poe_confirmed, shipping_address, contact). The caller has checked the trial and its services."""
    if not devices:
        return []
    deliveries = await _check_devices(db, trial, list(devices), [["devices", str(i)] for i in range(len(devices))])
    return await _add_shipments(db, actor, trial, list(devices), deliveries)


async def _has_service(db: AsyncSession, trial: Trial, service: ServiceType) -> bool:
    return bool(await db.scalar(select(exists(select(TrialService.id).where(
        TrialService.trial_id == trial.id, TrialService.service == service.value, TrialService.removed_at.is_(None))))))


async def _devices_trial(db: AsyncSession, actor: Actor, trial_id: int | None) -> Trial:
    trial = await visibility.get_trial(db, actor, trial_id, Action.MANAGE_TRIAL)
    if TrialState(trial.state) not in REQUESTABLE_STATES:
        raise DomainError(ErrorCode.INVALID_STATE, "Devices can only be requested for an active trial.", "trialId")
    if not await _has_service(db, trial, ServiceType.DEVICES):
        raise DomainError(ErrorCode.INVALID_STATE, "This trial does not include Devices.", "trialId")
    return trial


async def request_shipment(db: AsyncSession, actor: Actor, trial_id: int | None, device: Any) -> Shipment:
    """R-DEV-01: one shipment per device type per trial; phones need PoE confirmed; delivered to an
    address in the customer's country, to a contact (R-DEV-02, `delivery`)."""
    trial = await _devices_trial(db, actor, trial_id)
    deliveries = await _check_devices(db, trial, [device], [["device"]])
    (shipment,) = await _add_shipments(db, actor, trial, [device], deliveries)
    return shipment


async def skip_devices(db: AsyncSession, actor: Actor, trial_id: int | None, skip: DeviceSkip) -> Trial:
    """R-DEV-01: ship nothing, and say why (registration licenses only, own, existing devices, test setup)."""
    trial = await _devices_trial(db, actor, trial_id)
    if await db.scalar(select(exists(select(Shipment.id).where(Shipment.trial_id == trial.id)))):
        raise DomainError(ErrorCode.SHIPMENT_EXISTS, "Devices were requested for this trial already.", "skip")
    before = trial.device_skip
    trial.device_skip = DeviceSkip(skip).value
    audit.record(db, actor, "trial.devices_skipped", "Trial", trial.id, customer_id=trial.customer_id,
                 before={"device_skip": before}, after={"device_skip": trial.device_skip})
    return trial


# --- R-DEV-02: recording (trials team) -------------------------------------------------------------

def normalize_serials(serials: Iterable[str], field: str = "serialNumbers") -> list[str]:
    cleaned = [str(s).strip().upper() for s in serials]
    if any(not s or len(s) > 64 for s in cleaned):
        raise DomainError(ErrorCode.INVALID_INPUT, "Serial numbers are 1 to 64 characters.", field)
    duplicates = sorted({s for s in cleaned if cleaned.count(s) > 1})
    if duplicates:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Listed twice: {', '.join(duplicates)}.", field)
    return cleaned


def schedule_return(db: AsyncSession, shipment: Shipment) -> None:
    """RETURN_DUE on the due date, RETURN_OVERDUE once `return_by` has passed (the day after)."""
    now = clock.now()
    due_at = at_midnight(shipment.due_date)
    if due_at > now:
        timeline.schedule(db, DeadlineKind.RETURN_DUE, "Shipment", shipment.id, due_at)
    timeline.schedule(db, DeadlineKind.RETURN_OVERDUE, "Shipment", shipment.id,
                      at_midnight(shipment.return_by + timedelta(days=1)))


async def record_shipment(db: AsyncSession, actor: Actor, shipment_id: int | None, demo_order_number: str,
                          serial_numbers: list[str], shipped_on: date) -> Shipment:
    """R-DEV-02: demo order, carrier by country, one serial per item, due date; the customer admins
    get the device license email with the due date and return instructions (R-RMA-01)."""
    shipment, trial = await get_shipment(db, actor, shipment_id, Action.RECORD_SHIPMENT)
    if shipment.status != ShipmentStatus.REQUESTED.value:
        raise DomainError(ErrorCode.INVALID_STATE, "This shipment has been recorded already.", "shipmentId")
    order = (demo_order_number or "").strip()
    if not order or len(order) > 64:
        raise DomainError(ErrorCode.INVALID_INPUT, "Enter the demo order number (up to 64 characters).",
                          "demoOrderNumber")
    serials = normalize_serials(serial_numbers)
    if len(serials) != shipment.quantity:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Enter one serial number per device: {shipment.quantity} expected,"
                          f" {len(serials)} given.", "serialNumbers")
    if shipped_on > clock.today():
        raise DomainError(ErrorCode.INVALID_INPUT, "The ship date cannot be in the future.", "shippedOn")
    taken = list(await db.scalars(select(ShipmentItem.serial_number).where(ShipmentItem.serial_number.in_(serials))))
    if taken:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Already recorded on another shipment: {', '.join(sorted(taken))}.",
                          "serialNumbers")
    before = snapshot(shipment)
    shipment.demo_order_number = order
    shipment.carrier = carrier_for(shipment.country)
    shipment.shipped_on = shipped_on
    shipment.due_date = shipped_on + timedelta(days=trial.duration_days)
    shipment.return_by = shipment.due_date + RETURN_WINDOW
    shipment.status = ShipmentStatus.SHIPPED.value
    try:
        async with db.begin_nested():
            db.add_all([ShipmentItem(shipment_id=shipment.id, model=shipment.model, serial_number=s, returned=False)
                        for s in serials])
            await db.flush()
    except IntegrityError:
        raise DomainError(ErrorCode.INVALID_INPUT, "A serial number is recorded on another shipment.",
                          "serialNumbers") from None
    schedule_return(db, shipment)
    await notify.to_customer_admins(
        db, EmailKind.DEVICE_LICENSE, trial, f"shipment:{shipment.id}:license",
        device_type=shipment.device_type, model=shipment.model, serial_numbers=", ".join(serials),
        demo_order_number=order, order_number=order, device_due_at=shipment.due_date.isoformat(),
        due_date=shipment.due_date.isoformat(), return_by=shipment.return_by.isoformat(),
        carrier=shipment.carrier, ship_to=delivery.one_line(shipment))
    audit.record(db, actor, "shipment.recorded", "Shipment", shipment.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before=before, after={**snapshot(shipment), "serials": serials})
    return shipment


async def request_return_label(db: AsyncSession, actor: Actor, shipment_id: int | None) -> Shipment:
    """R-RMA-01: a lost UPS return label can be re-requested, in the US only."""
    action = Action.RECORD_SHIPMENT if actor.is_trials_team else Action.MANAGE_TRIAL
    shipment, trial = await get_shipment(db, actor, shipment_id, action)
    if shipment.country != "US":
        raise DomainError(ErrorCode.RETURN_LABEL_US_ONLY, "Return labels exist only in the US. "
                          + return_instructions(shipment.country, shipment.demo_order_number), "shipmentId")
    if ShipmentStatus(shipment.status) not in OUT:
        raise DomainError(ErrorCode.INVALID_STATE, "Only devices out at the customer need a return label.",
                          "shipmentId")
    shipment.return_labels_requested = (shipment.return_labels_requested or 0) + 1
    audit.record(db, actor, "shipment.return_label_requested", "Shipment", shipment.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, after={"return_labels_requested": shipment.return_labels_requested})
    return shipment


# --- for the lifecycle area --------------------------------------------------------------------------

async def devices_outstanding(db: AsyncSession, trial_id: int) -> bool:
    """R-EDIT-01: devices of this trial are still at the customer (DEVICES cannot be removed)."""
    return bool(await db.scalar(select(exists(select(Shipment.id).where(
        Shipment.trial_id == trial_id, Shipment.status.in_([s.value for s in OUT]))))))


async def start_returns(db: AsyncSession, trial: Trial, actor: Actor = SYSTEM) -> None:
    """R-CANCEL-01 / R-RMA-01: the trial ended early, so devices are due back now: the due date
    becomes today and the return window (14 days) starts. Shipments not yet shipped are withdrawn."""
    today = clock.today()
    for shipment in list(await db.scalars(select(Shipment).where(Shipment.trial_id == trial.id))):
        if shipment.status == ShipmentStatus.REQUESTED.value:
            audit.record(db, actor, "shipment.withdrawn", "Shipment", shipment.id, customer_id=trial.customer_id,
                         partner_id=trial.partner_id, before=snapshot(shipment))
            await db.delete(shipment)
            continue
        if ShipmentStatus(shipment.status) not in OUT or shipment.due_date is None or shipment.due_date <= today:
            continue
        before = snapshot(shipment)
        shipment.due_date = today
        shipment.return_by = today + RETURN_WINDOW
        if shipment.status in (ShipmentStatus.SHIPPED.value, ShipmentStatus.DELIVERED.value):
            shipment.status = ShipmentStatus.RETURN_DUE.value
        await timeline.cancel(db, "Shipment", shipment.id, [DeadlineKind.RETURN_DUE, DeadlineKind.RETURN_OVERDUE])
        schedule_return(db, shipment)
        audit.record(db, actor, "shipment.return_started", "Shipment", shipment.id, customer_id=trial.customer_id,
                     partner_id=trial.partner_id, before=before, after=snapshot(shipment))
    await db.flush()


# --- lists --------------------------------------------------------------------------------------------

async def trials_team_queue(db: AsyncSession, actor: Actor, statuses: Iterable[ShipmentStatus]) -> list[Shipment]:
    """Trials team (R-ROLE-05): shipments to record or returns to reconcile, oldest first."""
    if not actor.is_trials_team or not permissions.can(actor, Action.RECORD_SHIPMENT):
        return []
    return list(await db.scalars(select(Shipment).where(queue_condition(actor, statuses)).order_by(*queue_order())))


def queue_condition(actor: Actor, statuses: Iterable[ShipmentStatus], shipment=Shipment):
    """`trials_team_queue` as a condition on shipments (also the planner's): those in `statuses` for the
    trials team (R-ROLE-05), none for anyone else."""
    if not actor.is_trials_team or not permissions.can(actor, Action.RECORD_SHIPMENT):
        return false()
    return shipment.status.in_([s.value for s in statuses])


def queue_order(shipment=Shipment) -> list:
    return [shipment.created_at, shipment.id]
