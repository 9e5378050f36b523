"""Where devices are delivered and who receives them (R-DEV-01, R-DEV-02): the form fields the start
wizard's devices step and the shipment form share (`web/templates/_delivery.html`).

Field names are the API's paths under a prefix (`devices.shippingAddress.postalCode`,
`device.contact.phone`), so a userError lands next to its field. The API takes the delivery as
optional for now; the portal requires it: it always sends both (`to_input`), and the wizard asks
for them on the devices step before its review (`missing`). The address's country is the
customer's (devices are delivered there), so the form shows it and does not ask.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ADDRESS = ("line1", "line2", "city", "postalCode", "region")
REQUIRED = (("shippingAddress.line1", "Enter the street address."), ("shippingAddress.postalCode", "Enter the postal code."),
            ("shippingAddress.city", "Enter the city."), ("contact.name", "Enter who receives the devices."),
            ("contact.phone", "Enter the phone number of who receives the devices."))


def _value(values: Mapping[str, Any], name: str) -> str:
    return str(values.get(name, "") or "").strip()


def missing(values: Mapping[str, Any], prefix: str) -> dict[str, list[str]]:
    """The required delivery fields left empty, by field name (messages in English, for `_()`)."""
    return {f"{prefix}.{name}": [message] for name, message in REQUIRED if not _value(values, f"{prefix}.{name}")}


def values_of(address: Mapping[str, Any] | None, prefix: str) -> dict[str, str]:
    """A ShippingAddress read from the API as the form's values (a next shipment starts from the last one)."""
    if not address:
        return {}
    found = {f"{prefix}.shippingAddress.{key}": address.get(key) or "" for key in ADDRESS}
    return {**found, f"{prefix}.contact.name": address.get("contactName", ""),
            f"{prefix}.contact.phone": address.get("contactPhone", "")}


def to_input(values: Mapping[str, Any], prefix: str, country: str) -> dict[str, Any]:
    """DeviceRequest's `shippingAddress` and `contact` from the form: always both, empty fields too, so
    the API's own checks (`server.domain.devices.delivery`) say what is missing, next to each field,
    with every other problem of the request."""
    address = {key: _value(values, f"{prefix}.shippingAddress.{key}") for key in ADDRESS}
    return {"shippingAddress": {**address, "line2": address["line2"] or None, "region": address["region"] or None,
                                "country": country},
            "contact": {key: _value(values, f"{prefix}.contact.{key}") for key in ("name", "phone")}}


def field_of(path: list[str], prefix: str) -> str | None:
    """A userError's field under a device (`[…, "contact", "phone"]`) as the form's field name, or None
    when it is not about the delivery. A missing whole part points at its first field."""
    for part, first in (("shippingAddress", "line1"), ("contact", "name")):
        if part in path:
            rest = path[path.index(part) + 1:]
            return f"{prefix}.{part}.{rest[0] if rest else first}"
    return None
