"""Where a trial's devices are delivered and who receives them (R-DEV-01, R-DEV-02).

Decisions (SPEC is silent):
- A shipment carries a postal address and a contact (name, phone). Both or neither: the API takes
  them as optional for now (API.graphql), the portal asks for both. The address is in the
  shipment's country (the customer's: the carrier and the return instructions follow it), checked
  like every postal address (`server.domain.orgs.addresses`).
- The contact's phone is parsed with `phonenumbers`, the shipment's country as default region (a
  national number needs no prefix; a foreign mobile is fine), and stored in E.164. The name is 1 to
  100 characters.
- Every problem comes back at once, each on its field (`…shippingAddress.postalCode`,
  `…contact.phone`); nothing is written then.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from server.domain.core.errors import DomainError
from server.domain.orgs import addresses
from server.domain.orgs.addresses import Address
from server.enums import ErrorCode


@dataclass
class Contact:
    """Who receives the devices."""
    name: str
    phone: str


@dataclass
class Delivery:
    address: Address
    contact: Contact


def check(address: Address | None, contact: Contact | None, country: str,
          at: list[str]) -> tuple[Delivery | None, list[DomainError]]:
    """The checked delivery (None when neither is given) and every problem found, on fields under `at`."""
    if address is None and contact is None:
        return None, []
    errors: list[DomainError] = []
    if address is None:
        errors.append(DomainError(ErrorCode.INVALID_ADDRESS, "Enter the delivery address of the devices.",
                                  [*at, "shippingAddress"]))
    if contact is None:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Enter who receives the devices: a name and a phone number.",
                                  [*at, "contact"]))
    checked_address = _address(address, country, [*at, "shippingAddress"], errors) if address else None
    checked_contact = _contact(contact, country, [*at, "contact"], errors) if contact else None
    if errors or checked_address is None or checked_contact is None:
        return None, errors
    return Delivery(checked_address, checked_contact), []


def _address(address: Address, country: str, at: list[str], errors: list[DomainError]) -> Address | None:
    wrong_country = (address.country or "").strip().upper() != country
    if wrong_country:
        errors.append(DomainError(ErrorCode.INVALID_ADDRESS, f"Devices are delivered in the customer's country "
                                  f"({country}): enter an address there.", [*at, "country"]))
    try:  # the rest checked as an address of the customer's country, so every problem shows at once
        checked = addresses.check_address(replace(address, country=country), at)
    except DomainError as problems:
        errors.extend(problems.errors)
        return None
    return None if wrong_country else checked


def _contact(contact: Contact, country: str, at: list[str], errors: list[DomainError]) -> Contact | None:
    name = (contact.name or "").strip()
    if not name or len(name) > 100:
        errors.append(DomainError(ErrorCode.INVALID_INPUT, "Enter who receives the devices (a name of at most 100 "
                                  "characters).", [*at, "name"]))
    if not (contact.phone or "").strip():
        errors.append(DomainError(ErrorCode.INVALID_PHONE_NUMBER, "Enter the phone number of who receives the devices.",
                                  [*at, "phone"]))
        return None
    try:
        phone = addresses.e164(contact.phone, country, [*at, "phone"])
    except DomainError as problem:
        errors.append(problem)
        return None
    return Contact(name=name, phone=phone) if name and len(name) <= 100 else None


def columns(delivery: Delivery | None) -> dict[str, Any]:
    """The shipment's columns for a delivery (all None without one)."""
    address, contact = (delivery.address, delivery.contact) if delivery else (None, None)
    return {"address_line1": address and address.line1, "address_line2": address and address.line2,
            "address_city": address and address.city, "address_postal_code": address and address.postal_code,
            "address_region": address and address.region, "contact_name": contact and contact.name,
            "contact_phone": contact and contact.phone}


def one_line(row: Any) -> str | None:
    """'Kari Nordmann (+4791234567), Storgata 1, 0155 Oslo' of a shipment row, None without an address
    (the device license email)."""
    if not getattr(row, "address_line1", None):
        return None
    place = " ".join(p for p in (row.address_postal_code, row.address_city) if p)
    parts = [row.address_line1, row.address_line2, place, row.address_region]
    return f"{row.contact_name} ({row.contact_phone}), " + ", ".join(p for p in parts if p)
