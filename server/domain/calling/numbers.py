"""Calling trials: locations, phone numbers and their release (R-SVC-03, R-TIME-06).

Decisions:
- Locations and numbers belong to the customer org; a partner manages them (R-ROLE-02 "edit")
  while the customer has a calling trial of that partner that is pending provisioning, active,
  in grace or converted (conversion keeps the calling configuration and its numbers).
- PSTN `CCP`: the customer orders numbers from its provider, none are needed; any entered are
  checked like the others. `PARTNER_DIDS`: one DID per calling license plus 2 per location
  (`number_requirement`). `CALLING_PLAN`: at most 10 live numbers in total, and no porting.
- A port request is expressed by `port=True` on `assign_numbers` (the numbers exist at another
  carrier); CALLING_PLAN refuses it with PORTING_NOT_ALLOWED.
- Numbers are parsed with the location's country as default region, stored in E.164, and must
  belong to the location's country. Re-assigning a number already at this location is a no-op.
- Postal addresses and the numbers' parsing: `server.domain.orgs.addresses` (one check for locations
  and device deliveries).
- R-TIME-06: at the end of grace the numbers become RESERVED until grace end + 15 days, then
  RELEASED (free for any other customer: the unique index covers only live numbers).
"""
from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import BigInteger, Select, and_, bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import CustomerOrg, Deadline, Location, PhoneNumber, Trial, TrialService
from server.domain.core import audit
from server.domain.orgs import addresses
from server.domain.orgs.addresses import Address, check_address
from server.domain.timeline import deadlines as timeline
from server.domain.core import visibility
from server.domain.core.actor import SYSTEM, Actor
from server.domain.core.errors import DomainError, not_found, raise_all
from server.domain.core.permissions import Action
from server.domain.timeline.deadlines import DeadlineKind
from server.enums import ErrorCode, NumberStatus, PstnOption, ServiceType, TrialState

CALLING_PLAN_LIMIT = 10
NUMBERS_PER_LOCATION = 2
CALLING_STATES = (TrialState.PENDING_PROVISIONING, TrialState.ACTIVE, TrialState.EXPIRED, TrialState.CONVERTED)
LIVE = (NumberStatus.ASSIGNED.value, NumberStatus.RESERVED.value)


# --- addresses and time zones ----------------------------------------------------------------------

@lru_cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(name: str, field: str = "timeZone") -> str:
    if not name or name not in _time_zones():
        raise DomainError(ErrorCode.INVALID_TIME_ZONE, f"'{name}' is not an IANA time zone (e.g. Europe/Oslo).", field)
    return name


# --- the customer's calling trial ------------------------------------------------------------------

async def calling_service(db: AsyncSession, actor: Actor, customer_id: int) -> tuple[Trial, TrialService] | None:
    """The newest calling trial of this customer within the actor's reach, with its CALLING service."""
    row = (await db.execute(
        select(Trial, TrialService).join(TrialService, TrialService.trial_id == Trial.id)
        .where(Trial.customer_id == customer_id, visibility.trial_condition(actor),
               Trial.state.in_([s.value for s in CALLING_STATES]),
               TrialService.service == ServiceType.CALLING.value, TrialService.removed_at.is_(None))
        .order_by(Trial.id.desc()).limit(1))).first()
    return (row[0], row[1]) if row else None


async def _calling_or_refuse(db: AsyncSession, actor: Actor, customer_id: int, field: str) -> tuple[Trial, TrialService]:
    found = await calling_service(db, actor, customer_id)
    if found is None:
        raise DomainError(ErrorCode.INVALID_STATE, "This customer has no calling trial to set up.", field)
    return found


async def add_location(db: AsyncSession, actor: Actor, customer_id: int | None, name: str, address: Address,
                       time_zone: str) -> Location:
    """R-SVC-03: a calling location with a postal address and a time zone."""
    customer = await visibility.get_customer(db, actor, customer_id, Action.MANAGE_TRIAL)
    await _calling_or_refuse(db, actor, customer.id, "customerId")
    errors: list[DomainError] = []
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Give the location a name (up to 200 characters).", "name"))
    for check in (lambda: check_time_zone(time_zone), lambda: check_address(address)):
        try:
            result = check()
        except DomainError as error:
            errors.extend(error.errors)
        else:
            if isinstance(result, Address):
                address = result
    raise_all(errors)
    location = Location(customer_id=customer.id, name=name, line1=address.line1, line2=address.line2,
                        city=address.city, postal_code=address.postal_code, region=address.region,
                        country=address.country, time_zone=time_zone, created_at=clock.now())
    db.add(location)
    await db.flush()
    audit.record(db, actor, "location.added", "Location", location.id, customer_id=customer.id,
                 after={"name": name, "country": address.country, "city": address.city, "time_zone": time_zone})
    return location


async def get_location(db: AsyncSession, actor: Actor, location_id: int | None, action: Action = Action.VIEW) -> Location:
    """The location, or NOT_FOUND when missing, another partner's customer's (R-ORG-02) or a customer
    the actor reaches only through a pending consent request (R-EX-01: no street addresses)."""
    location = await db.get(Location, location_id) if location_id is not None else None
    if location is None:
        raise not_found("location", "locationId")
    try:
        customer = await visibility.get_customer(db, actor, location.customer_id, action, field="locationId")
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise not_found("location", "locationId") from None
        raise
    if not await visibility.reads_details(db, actor, customer.id):
        raise not_found("location", "locationId")
    return location


# --- numbers ---------------------------------------------------------------------------------------

def normalize_number(raw: str, country: str, index: int) -> str:
    """E.164 of a number of `country` (R-SVC-03), or INVALID_PHONE_NUMBER."""
    return addresses.e164(raw, country, ["numbers", str(index)], of_country=country)


async def live_numbers(db: AsyncSession, customer_id: int) -> int:
    return int(await db.scalar(select(func.count()).select_from(PhoneNumber).where(
        PhoneNumber.customer_id == customer_id, PhoneNumber.status.in_(LIVE))) or 0)


async def assign_numbers(db: AsyncSession, actor: Actor, location_id: int | None, numbers: list[str], *,
                         port: bool = False) -> Location:
    """R-SVC-03: E.164, unique on the platform while live; CALLING_PLAN: at most 10, no porting."""
    location = await get_location(db, actor, location_id, Action.MANAGE_TRIAL)
    _, service = await _calling_or_refuse(db, actor, location.customer_id, "locationId")
    pstn = PstnOption(service.pstn or PstnOption.CCP.value)
    if not numbers:
        raise DomainError(ErrorCode.INVALID_INPUT, "Enter at least one number.", "numbers")
    if port and pstn is PstnOption.CALLING_PLAN:
        raise DomainError(ErrorCode.PORTING_NOT_ALLOWED, "A calling trial with the built-in calling plan gets new "
                          "numbers only: porting is not allowed.", "port")
    errors: list[DomainError] = []
    wanted: list[str] = []
    for i, raw in enumerate(numbers):
        try:
            e164 = normalize_number(raw, location.country, i)
        except DomainError as error:
            errors.append(error)
            continue
        if e164 not in wanted:
            wanted.append(e164)
    raise_all(errors)
    existing = {n.e164: n for n in await db.scalars(select(PhoneNumber).where(
        PhoneNumber.e164.in_(wanted), PhoneNumber.status.in_(LIVE)))}
    taken = [e for e, n in existing.items() if n.location_id != location.id]
    if taken:
        raise DomainError(ErrorCode.NUMBER_TAKEN, f"Already in use on the platform: {', '.join(sorted(taken))}.",
                          "numbers")
    new = [e for e in wanted if e not in existing]
    if pstn is PstnOption.CALLING_PLAN and await live_numbers(db, location.customer_id) + len(new) > CALLING_PLAN_LIMIT:
        raise DomainError(ErrorCode.NUMBER_LIMIT, f"A calling-plan trial gets at most {CALLING_PLAN_LIMIT} numbers.",
                          "numbers")
    now = clock.now()
    try:
        async with db.begin_nested():
            db.add_all([PhoneNumber(e164=e, customer_id=location.customer_id, location_id=location.id,
                                    status=NumberStatus.ASSIGNED.value, created_at=now) for e in new])
            await db.flush()
    except IntegrityError:  # another customer took one of them in the meantime
        raise DomainError(ErrorCode.NUMBER_TAKEN, "A number was just taken on the platform; try again.",
                          "numbers") from None
    audit.record(db, actor, "numbers.assigned", "Location", location.id, customer_id=location.customer_id,
                 after={"numbers": new, "port": port, "pstn": pstn.value})
    return location


@dataclass
class NumberRequirement:
    """R-SVC-03: what a calling trial still needs (PARTNER_DIDS) or may take (CALLING_PLAN)."""
    pstn: PstnOption
    licenses: int
    locations: int
    required: int
    assigned: int
    missing: int
    limit: int | None
    description: str


def requirement(pstn: str | None, service_licenses: int | None, trial_licenses: int, details: bool, locations: int,
                assigned: int) -> NumberRequirement:
    """R-SVC-03 from what is read of a calling trial: its service's PSTN option and licenses, the trial's
    licenses, whether the actor reads the org's details (R-EX-01: a pending request's partner learns
    nothing of its setup) and the org's locations and live numbers. `number_requirement` (the reference
    path) and the read planner (`requirement_statement`'s row) both decide with it."""
    pstn = PstnOption(pstn or PstnOption.CCP.value)
    licenses = service_licenses or trial_licenses
    if not details:
        locations = assigned = 0
    if pstn is PstnOption.PARTNER_DIDS:
        required = licenses + NUMBERS_PER_LOCATION * locations
        missing = max(0, required - assigned)
        text = (f"One DID per licensed user plus {NUMBERS_PER_LOCATION} per location: {licenses} + "
                f"{NUMBERS_PER_LOCATION} × {locations} = {required}; {assigned} assigned, {missing} missing.")
        return NumberRequirement(pstn, licenses, locations, required, assigned, missing, None, text)
    if pstn is PstnOption.CALLING_PLAN:
        text = (f"The built-in calling plan gets at most {CALLING_PLAN_LIMIT} new numbers and no porting; "
                f"{assigned} assigned.")
        return NumberRequirement(pstn, licenses, locations, 0, assigned, 0, CALLING_PLAN_LIMIT, text)
    return NumberRequirement(pstn, licenses, locations, 0, assigned, 0, None,
                             "The customer orders its numbers from its Cloud Connected PSTN provider; none are needed.")


def _calling_service(trial_id):
    return and_(TrialService.trial_id == trial_id, TrialService.service == ServiceType.CALLING.value,
                TrialService.removed_at.is_(None))


async def number_requirement(db: AsyncSession, actor: Actor, trial_id: int | None) -> NumberRequirement:
    trial = await visibility.get_trial(db, actor, trial_id, Action.VIEW, for_update=False)
    service = await db.scalar(select(TrialService).where(_calling_service(trial.id)))
    if service is None:
        raise DomainError(ErrorCode.INVALID_STATE, "This trial does not include Calling.", "trialId")
    locations = assigned = 0
    details = await visibility.reads_details(db, actor, trial.customer_id)
    if details:
        locations = int(await db.scalar(select(func.count()).select_from(Location)
                                        .where(Location.customer_id == trial.customer_id)) or 0)
        assigned = await live_numbers(db, trial.customer_id)
    return requirement(service.pstn, service.license_count, trial.license_count, details, locations, assigned)


def requirement_parameters(trial_id: int | None, prefix: str) -> dict[str, int]:
    """`requirement_statement`'s parameter (0, no trial's ID, when the ID named none)."""
    return {f"{prefix}trial_id": 0 if trial_id is None else trial_id}


def requirement_statement(actor: Actor, prefix: str) -> Select:
    """`number_requirement`'s reads as one statement (the read planner): the row of the trial bound as
    `{prefix}trial_id` (`requirement_parameters`) when the actor reaches it (`visibility.trial_reach`, as `get_trial`) and it has
    Calling, with `requirement`'s inputs; no row where `number_requirement` raises."""
    customer = CustomerOrg.__table__.alias("requirement_customer")
    details = exists(select(customer.c.id).where(customer.c.id == Trial.customer_id,
                                                 visibility.details_condition(actor, customer)))
    locations = select(func.count()).select_from(Location).where(Location.customer_id == Trial.customer_id)
    assigned = select(func.count()).select_from(PhoneNumber).where(PhoneNumber.customer_id == Trial.customer_id,
                                                                   PhoneNumber.status.in_(LIVE))
    return (select(TrialService.pstn, TrialService.license_count.label("service_licenses"),
                   Trial.license_count.label("trial_licenses"), details.label("details"),
                   locations.scalar_subquery().label("locations"), assigned.scalar_subquery().label("assigned"))
            .select_from(Trial).join(TrialService, _calling_service(Trial.id))
            .where(Trial.id == bindparam(f"{prefix}trial_id", type_=BigInteger), visibility.trial_reach(actor))
            .order_by(TrialService.id).limit(1))


# --- R-TIME-06: calling stops at grace end, numbers released 15 days later ----------------------------

async def on_grace_end(db: AsyncSession, trial: Trial) -> None:
    """R-TIME-06: calling stops; the customer's numbers are kept (RESERVED) 15 more days."""
    has_calling = await db.scalar(select(exists(select(TrialService.id).where(
        TrialService.trial_id == trial.id, TrialService.service == ServiceType.CALLING.value))))
    if not has_calling:
        return
    release_at = (trial.grace_ends_at or clock.now()) + timeline.NUMBER_HOLD
    result = await db.execute(update(PhoneNumber).where(
        PhoneNumber.customer_id == trial.customer_id, PhoneNumber.status == NumberStatus.ASSIGNED.value)
        .values(status=NumberStatus.RESERVED.value, release_at=release_at))
    if not result.rowcount:
        return
    pending = await db.scalar(select(exists(select(Deadline.id).where(
        Deadline.subject_type == "Trial", Deadline.subject_id == trial.id, Deadline.kind == DeadlineKind.NUMBER_RELEASE.value,
        Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None)))))
    if not pending:
        timeline.schedule(db, DeadlineKind.NUMBER_RELEASE, "Trial", trial.id, release_at)
    audit.record(db, SYSTEM, "numbers.reserved", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, after={"count": result.rowcount, "release_at": release_at.isoformat()})


async def on_number_release(db: AsyncSession, deadline: Deadline) -> None:
    """R-TIME-06: 15 days after grace the reserved numbers are released (once) and free again."""
    trial = await db.get(Trial, deadline.subject_id)
    if trial is None:
        return
    now = clock.now()
    result = await db.execute(update(PhoneNumber).where(
        PhoneNumber.customer_id == trial.customer_id, PhoneNumber.status == NumberStatus.RESERVED.value,
        PhoneNumber.release_at <= now + timedelta(seconds=1))
        .values(status=NumberStatus.RELEASED.value, released_at=now))
    if result.rowcount:
        audit.record(db, SYSTEM, "numbers.released", "Trial", trial.id, customer_id=trial.customer_id,
                     partner_id=trial.partner_id, after={"count": result.rowcount})
