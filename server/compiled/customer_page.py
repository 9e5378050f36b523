"""Compiled `CustomerPage` (web/operations/CustomerPage.graphql, `/customers/{id}`) on PostgreSQL: one statement.

    SELECT (SELECT json_build_array(<customer_orgs columns>,
                                    <the viewer's partner's grant>, <purchased services>, <managing partner>,
                                    <trials (visibility.trial_condition) + their services, shipments with items,
                                     device extension requests>, <locations + their numbers>)
            FROM customer_orgs WHERE id = :id AND <visibility.customer_condition(actor)>)   -- customer
         , (SELECT json_build_array(name, tier) FROM partner_orgs WHERE id = <actor's partner>) -- viewer.partner
         , (SELECT json_agg(<device_models> ORDER BY type, model))                          -- deviceCatalog

The reach (`customer_condition`, `trial_condition`) comes from the domain builders the reference
loaders use (`server.loaders`), each relation in the loader's order (trials, services, shipments,
items and extension requests by id; purchased services by service; locations by name, ties by id;
numbers by e164, id). Derived fields (`subscriptionStatus`, `daysLeft`, `expired`,
`returnInstructions`), global IDs and enum defaults (Meetings edition BASIC, PSTN CCP) are computed
in Python by the same functions and rules as the reference types, with one clock reading.

A customer that is missing, out of reach or named by a malformed / other type's ID answers
`customer: null` like the reference path (no error: it does not say whether the org exists). Handed
back (None) to the reference path: a signed-out actor (UNAUTHENTICATED errors), an `id` that is
neither a string nor an integer (variable errors), or a pk outside 64 bits (the reference's loader
errors). Locations with the same name come by id here; the reference loader orders by name only.

The statement is built once per actor (the id is a bound parameter; nothing in it reads the clock)
and its SQL text compiled once (`compiled.Prepared`): building costs 1.6 ms of CPU and compiling
7.8 ms; a call then costs ~0.45 ms of CPU in all and one round trip, where the reference path costs
~9.7 ms and 12 statements (in-process A/B, bench.customers' data, load average ~10 on 2 cores).
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import BigInteger, Text, bindparam, cast, func, null, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from server import clock, compiled
from server.db.models import (
    CustomerOrg, DeviceExtensionRequest, DeviceModel, Location, PartnerAccessGrant, PartnerOrg, PhoneNumber,
    PurchasedService, Shipment, ShipmentItem, Trial, TrialService,
)
from server.domain import status, visibility
from server.domain.actor import ActorKind
from server.domain.service_options import DURATIONS
from server.domain.shipments import return_instructions
from server.schema.node import decode_id

DOCUMENT_SHA256 = "241905ded3a397defb92a5e62b5aa1a8214ed19f3d8ee692f5958cccf66ef8b3"
EMPTY = text("'[]'::json")
UTC_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS.US'
INT64 = 2**63


class _Trial(NamedTuple):  # what status.derive reads of a trial
    state: str
    ends_at: datetime | None


def _utc(column):
    return func.to_char(func.timezone("UTC", column), UTC_TEXT)


def _agg(row, *order):
    return func.coalesce(func.json_agg(aggregate_order_by(row, *order)), EMPTY)


@lru_cache(maxsize=1024)
def statement(actor) -> compiled.Prepared:
    """The page's one statement for `actor`; the customer's pk is bound as `id`."""
    items = (select(_agg(func.json_build_array(ShipmentItem.model, ShipmentItem.serial_number), ShipmentItem.id))
             .where(ShipmentItem.shipment_id == Shipment.id).scalar_subquery())
    shipments = (select(_agg(func.json_build_array(
        Shipment.id, Shipment.device_type, Shipment.model, Shipment.quantity, Shipment.status,
        Shipment.demo_order_number, Shipment.carrier, Shipment.due_date, Shipment.return_by, Shipment.country,
        Shipment.return_labels_requested, items), Shipment.id))
        .where(Shipment.trial_id == Trial.id).scalar_subquery())
    services = (select(_agg(func.json_build_array(
        TrialService.service, TrialService.license_count, TrialService.meetings_edition, TrialService.site_url,
        TrialService.time_zone, TrialService.meetings_features, TrialService.pstn), TrialService.id))
        .where(TrialService.trial_id == Trial.id, TrialService.removed_at.is_(None)).scalar_subquery())
    extensions = (select(_agg(func.json_build_array(
        DeviceExtensionRequest.id, DeviceExtensionRequest.days, DeviceExtensionRequest.status,
        DeviceExtensionRequest.note, DeviceExtensionRequest.reason), DeviceExtensionRequest.id))
        .where(DeviceExtensionRequest.trial_id == Trial.id).scalar_subquery())
    trials = (select(_agg(func.json_build_array(
        Trial.id, Trial.state, Trial.kind, Trial.license_count, Trial.duration_days, _utc(Trial.starts_at),
        _utc(Trial.ends_at), _utc(Trial.grace_ends_at), Trial.version, services, shipments, extensions), Trial.id))
        .where(Trial.customer_id == CustomerOrg.id, visibility.trial_condition(actor)).scalar_subquery())
    numbers = (select(_agg(func.json_build_array(PhoneNumber.e164, PhoneNumber.status, _utc(PhoneNumber.release_at)),
                           PhoneNumber.e164, PhoneNumber.id))
               .where(PhoneNumber.location_id == Location.id).scalar_subquery())
    locations = (select(_agg(func.json_build_array(
        Location.id, Location.name, Location.country, Location.city, Location.time_zone, numbers),
        Location.name, Location.id))
        .where(Location.customer_id == CustomerOrg.id).scalar_subquery())
    purchased = (select(_agg(PurchasedService.service, PurchasedService.service))
                 .where(PurchasedService.customer_id == CustomerOrg.id).scalar_subquery())
    manager = (select(func.json_build_array(PartnerOrg.name, PartnerOrg.tier))
               .where(PartnerOrg.id == CustomerOrg.managing_partner_id).scalar_subquery())
    reads = visibility.access_condition(actor)
    access = (select(PartnerAccessGrant.access).where(PartnerAccessGrant.customer_id == CustomerOrg.id, reads)
              .scalar_subquery() if reads is not None else null())
    customer = (select(func.json_build_array(
        CustomerOrg.id, CustomerOrg.name, CustomerOrg.country, CustomerOrg.region, CustomerOrg.business_vertical,
        CustomerOrg.admin_email, CustomerOrg.provisioning_status, CustomerOrg.provisioning_error,
        CustomerOrg.subscription_status, access, purchased, manager, trials, locations))
        .where(CustomerOrg.id == bindparam("id", type_=BigInteger), visibility.customer_condition(actor))
        .scalar_subquery())
    partner = (select(func.json_build_array(PartnerOrg.name, PartnerOrg.tier))
               .where(PartnerOrg.id == actor.partner_id).scalar_subquery()
               if actor.partner_id is not None else null())
    catalog = select(_agg(func.json_build_array(DeviceModel.type, DeviceModel.model, DeviceModel.max_quantity),
                          DeviceModel.type, DeviceModel.model)).scalar_subquery()
    return compiled.Prepared(select(*(cast(column, Text) for column in (customer, partner, catalog))))  # text: orjson


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value is not None else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _service(row: list, expired: bool) -> dict[str, Any]:
    service, license_count, edition, site_url, time_zone, features, pstn = row
    return {"type": service, "licenseCount": license_count, "expired": expired,
            "meetings": {"edition": edition or "BASIC", "siteUrl": site_url, "timeZone": time_zone,
                         "features": list(features or [])} if service == "MEETINGS" else None,
            "calling": {"pstn": pstn or "CCP"} if service == "CALLING" else None}


def _shipment(row: list) -> dict[str, Any]:
    pk, device_type, model, quantity, state, order, carrier, due, return_by, country, labels, items = row
    return {"id": compiled.global_id("Shipment", pk), "deviceType": device_type, "model": model, "quantity": quantity,
            "status": state, "demoOrderNumber": order, "carrier": carrier, "dueDate": due, "returnBy": return_by,
            "returnInstructions": return_instructions(country, order), "country": country,
            "returnLabelsRequested": labels or 0,
            "items": [{"model": m, "serialNumber": serial} for m, serial in items]}


def _customer(row: list, now: datetime) -> dict[str, Any]:
    (pk, name, country, region, vertical, admin_email, provisioning, error, stored, access, purchased, manager,
     trials, locations) = row
    trial_rows = [(t, _time(t[6])) for t in trials]
    return {
        "id": compiled.global_id("Customer", pk), "name": name, "country": country, "region": region,
        "businessVertical": vertical, "adminEmail": admin_email, "provisioningStatus": provisioning,
        "provisioningError": error,
        "subscriptionStatus": status.derive(stored, [_Trial(t[1], ends) for t, ends in trial_rows], now).value,
        "partnerAccess": access, "purchasedServices": purchased,
        "managingPartner": {"name": manager[0], "tier": manager[1]} if manager is not None else None,
        "trials": [{
            "id": compiled.global_id("Trial", tid), "state": state, "kind": kind, "licenseCount": licenses,
            "durationDays": days, "startsAt": _iso(_time(starts)), "endsAt": _iso(ends),
            "graceEndsAt": _iso(_time(grace)), "daysLeft": status.days_left(ends, now), "version": version,
            "services": [_service(s, status.service_expired(state)) for s in services],
            "shipments": [_shipment(s) for s in shipments],
            "deviceExtensionRequests": [{"id": compiled.global_id("DeviceExtensionRequest", rid), "days": n,
                                         "status": decided, "note": note, "reason": reason}
                                        for rid, n, decided, note, reason in extensions],
        } for (tid, state, kind, licenses, days, starts, _, grace, version, services, shipments, extensions), ends
            in trial_rows],
        "locations": [{"id": compiled.global_id("Location", lid), "name": lname, "country": lcountry, "city": city,
                       "timeZone": zone, "numbers": [{"e164": e164, "status": state, "releaseAt": _iso(_time(at))}
                                                     for e164, state, at in numbers]}
                      for lid, lname, lcountry, city, zone, numbers in locations],
    }


async def run(context: Any, variables: dict[str, Any]) -> dict[str, Any] | None:
    actor = context.actor
    global_id = (variables or {}).get("id")
    if isinstance(global_id, int) and not isinstance(global_id, bool):
        global_id = str(global_id)  # GraphQL's ID input takes an integer as its decimal text
    if actor.kind is ActorKind.ANONYMOUS or not isinstance(global_id, str):
        return None
    pk = decode_id(global_id, "Customer")
    if pk is not None and not -INT64 <= pk < INT64:
        return None
    # A malformed or another type's ID (pk None) matches no customer: `customer: null`, as the reference.
    customer, partner, catalog = (orjson.loads(v) if v is not None else None
                                  for v in await compiled.one_row(context, statement(actor), {"id": pk}))
    return {
        "viewer": {"email": actor.email or "", "roles": [r.value for r in sorted(actor.roles)],
                   "partner": {"name": partner[0], "tier": partner[1]} if partner is not None else None},
        "trialDurations": list(DURATIONS),
        "deviceCatalog": [{"type": t, "model": m, "maxQuantity": q} for t, m, q in catalog],
        "customer": _customer(customer, clock.now()) if customer is not None else None,
    }
