"""R-SVC-06 / R-EX-02: which services a customer may still try, and why not.

A service is unavailable when the customer purchased it, or when any trial (of any partner) holds
it: TrialService.holds is true while the trial is pending or running (lifecycle.HOLDING_STATES).
Under concurrency the partial unique index `uq_trial_services_customer_service_held` is the
referee; `integrity_error()` turns its violation into the same SERVICE_NOT_AVAILABLE.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerOrg, PurchasedService, Trial, TrialService
from server.domain.core import visibility
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.enums import ErrorCode, ServiceType


@dataclass(frozen=True)
class Availability:
    service: ServiceType
    available: bool
    reason: str | None = None


async def for_customer(db: AsyncSession, customer_id: int | None, partner_id: int | None,
                       detailed: bool = True) -> list[Availability]:
    """Every service with its availability. `detailed=False` hides why, unless it is the partner's own
    trial (for orgs the partner does not manage, or only asked for consent: R-EX-01 "nothing private")."""
    if customer_id is None:
        return [Availability(s, True) for s in ServiceType]
    purchased = set(await db.scalars(select(PurchasedService.service).where(PurchasedService.customer_id == customer_id)))
    held = dict((await db.execute(
        select(TrialService.service, Trial.partner_id).join(Trial, Trial.id == TrialService.trial_id)
        .where(TrialService.customer_id == customer_id, TrialService.holds.is_(True)))).all())
    return decide(purchased, held, partner_id, detailed)


def decide(purchased: Collection[str], held: Mapping[str, int | None], partner_id: int | None,
           detailed: bool) -> list[Availability]:
    """`for_customer`'s rule over what it read: the services purchased, and who holds each held one."""
    result = []
    for service in ServiceType:
        reason = None
        if service.value in purchased:
            reason = "The customer has purchased this service."
        elif service.value in held:
            reason = ("This partner already has it in a pending or active trial." if held[service.value] == partner_id
                      else "Another partner has it in a pending or active trial for this customer.")
        if reason and not detailed and held.get(service.value) != partner_id:  # its own trial is no secret
            reason = "Not available for this organization."
        result.append(Availability(service, reason is None, reason))
    return result


def statement(actor: Actor, customer_id: Any) -> list:
    """`for_customer`'s reads by customerId as the read planner's expressions, for the customer bound as
    `customer_id` (a parameter): whether the actor reaches it (`visibility.get_customer`: NOT_FOUND
    otherwise), reads its details (`visibility.reads_details`), its purchased services (a JSON list) and
    its held ones ([service, partner] pairs) — `decide`'s inputs."""
    customer = CustomerOrg.__table__
    reach = exists(select(CustomerOrg.id).where(CustomerOrg.id == customer_id, visibility.customer_condition(actor)))
    details = exists(select(customer.c.id).where(customer.c.id == customer_id,
                                                 visibility.details_condition(actor, customer)))
    purchased = select(func.coalesce(func.json_agg(PurchasedService.service), text("'[]'::json"))).where(
        PurchasedService.customer_id == customer_id)
    held = select(func.coalesce(func.json_agg(func.json_build_array(TrialService.service, Trial.partner_id)),
                                text("'[]'::json"))).join(Trial, Trial.id == TrialService.trial_id).where(
        TrialService.customer_id == customer_id, TrialService.holds.is_(True))
    return [reach, details, purchased.scalar_subquery(), held.scalar_subquery()]


async def require(db: AsyncSession, customer_id: int | None, partner_id: int | None,
                  services: list[ServiceType], field: str = "services") -> None:
    """SERVICE_NOT_AVAILABLE for each requested service that is not available (R-SVC-06)."""
    if customer_id is None:
        return
    errors = [DomainError(ErrorCode.SERVICE_NOT_AVAILABLE, f"{a.service.value}: {a.reason}", field)
              for a in await for_customer(db, customer_id, partner_id) if a.service in services and not a.available]
    if errors:
        raise DomainError(errors[0].code, errors[0].message, errors[0].field, more=errors[1:])


def integrity_error(error: IntegrityError) -> DomainError | None:
    """Map a unique violation on trial_services to the rule it enforces (None: not ours)."""
    text = str(error.orig).lower()
    if "site_url" in text:
        return DomainError(ErrorCode.SITE_URL_TAKEN, "This site URL is taken.", ["meetings", "siteUrl"])
    if "customer_service_held" in text or "trial_services.customer_id, trial_services.service" in text:
        return DomainError(ErrorCode.SERVICE_NOT_AVAILABLE,
                           "A service you chose is now in another pending or active trial for this customer.",
                           "services")
    return None
