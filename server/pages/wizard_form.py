"""The trial wizard's state: every answer travels in the form (hidden fields on the other steps),
so the wizard works without JavaScript, Back loses nothing, and an error returns to its step.

Field names are the GraphQL input's paths (`companyName`, `meetings.siteUrl`,
`devices.PHONE.quantity`), so a userError's `field` names the input it belongs to.
"""
from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from server.pages import delivery_form

CUSTOMER = ("companyName", "adminEmail", "businessVertical", "country", "supportedLocationConfirmed")
SERVICES = ("services", "licenseCount", "durationDays", "meetings.edition", "meetings.siteUrl", "meetings.timeZone",
            "meetings.features", "calling.pstn")
MULTI = ("services", "meetings.features")
DEVICE_TYPES = ("PHONE", "DESK_DEVICE", "ROOM_DEVICE", "HEADSET")
SERVICE_TYPES = ("MESSAGING", "MEETINGS", "CALLING", "DEVICES")
FEATURES = ("MEETINGS_1000", "WEBEX_ASSISTANT")
PSTN = ("CCP", "PARTNER_DIDS", "CALLING_PLAN")
SKIPS = ("REGISTRATION_LICENSES_ONLY", "OWN_DEVICES", "EXISTING_DEVICES", "TEST_SETUP")


def step_of(key: str) -> str:
    if key.startswith("devices"):
        return "devices"
    return "customer" if key in CUSTOMER else "services"


def read(form: FormData) -> dict[str, Any]:
    """The wizard's answers from a posted form (navigation fields left out)."""
    state: dict[str, Any] = {}
    for key in {*form.keys()}:
        if key in ("csrf_token", "step", "go", "setupNow"):
            continue
        state[key] = [str(v) for v in form.getlist(key)] if key in MULTI else str(form.get(key, "")).strip()
    return state


def hidden(state: dict[str, Any], step: str) -> list[tuple[str, str]]:
    """(name, value) pairs carrying the answers of every step but `step`."""
    pairs = []
    for key, value in sorted(state.items()):
        if step_of(key) == step and step not in ("review", "setup", "confirm"):
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return pairs


def steps(state: dict[str, Any], existing: bool = False) -> list[str]:
    """The steps this trial goes through (devices only with DEVICES)."""
    order = ["customer", *(["confirm"] if existing else []), "services"]
    if "DEVICES" in state.get("services", []):
        order.append("devices")
    return [*order, "review"]


REQUIRED = {
    "customer": [("companyName", "Enter the company name."), ("adminEmail", "Enter the admin email address."),
                 ("businessVertical", "Choose a business vertical."), ("country", "Choose a country."),
                 ("supportedLocationConfirmed", "Confirm that the customer is in a supported location.")],
    "services": [("services", "Choose at least one service."), ("licenseCount", "Enter the license count."),
                 ("durationDays", "Choose the trial duration.")],
}


def whole_number(value: Any) -> int:
    """A form field as a whole number within GraphQL's Int (out-of-range input is the API's to
    refuse, not a crash): every page's number fields go through it."""
    try:
        return max(-(2**31), min(int(str(value).strip()), 2**31 - 1))
    except ValueError:
        return 0


def _one_of(value: Any, allowed: tuple[str, ...], default: str) -> str:
    return value if value in allowed else default


POE_MESSAGE = "Confirm PoE at the site, or contact the trials team."


def missing(state: dict[str, Any], step: str) -> dict[str, list[str]]:
    """Answers a step cannot go on without (formats and rules are the API's to check). Devices to
    ship need R-DEV-01's PoE confirmation for phones and where they go (R-DEV-02), asked on the
    devices step itself, before the review."""
    required = REQUIRED.get(step, [])
    problems = {key: [message] for key, message in required if not state.get(key)}
    if step == "devices" and devices(state):
        if any(d["type"] == "PHONE" and not d["poeConfirmed"] for d in devices(state)):
            problems["devices.PHONE.poeConfirmed"] = [POE_MESSAGE]
        problems.update(delivery_form.missing(state, "devices"))
    return problems


def devices(state: dict[str, Any]) -> list[dict[str, Any]]:
    """DeviceRequest inputs: one per device type with a quantity (R-DEV-01)."""
    chosen = []
    for kind in DEVICE_TYPES:
        quantity = whole_number(state.get(f"devices.{kind}.quantity", 0))
        model = state.get(f"devices.{kind}.model", "")
        if quantity > 0 and model:
            chosen.append({"type": kind, "model": model, "quantity": quantity,
                           "poeConfirmed": state.get(f"devices.{kind}.poeConfirmed") == "on",
                           **delivery_form.to_input(state, "devices", state.get("country", ""))})
    return chosen


LIMIT_MESSAGE = "That is more than this model's limit (shown next to it)."


def over_limit(state: dict[str, Any], catalog: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Devices ordered beyond their model's limit in the catalog (`deviceCatalog { model maxQuantity }`,
    the one source the API checks too)."""
    limits = {m["model"]: m["maxQuantity"] for m in catalog}
    return {f"devices.{d['type']}.quantity": [LIMIT_MESSAGE] for d in devices(state)
            if d["model"] in limits and d["quantity"] > limits[d["model"]]}


def error_key(path: list[str], state: dict[str, Any]) -> str:
    """A userError's field as the wizard's field name: `devices.0.contact.phone` → `devices.contact.phone`
    (one delivery for every device), `devices.0.quantity` → `devices.PHONE.quantity` (its row)."""
    if len(path) < 2 or path[0] != "devices" or not path[1].isdigit():
        return ".".join(path)
    delivery = delivery_form.field_of(path, "devices")
    if delivery:
        return delivery
    chosen, index = devices(state), int(path[1])
    if index >= len(chosen) or len(path) < 3:
        return "devices"
    return f"devices.{chosen[index]['type']}.{'model' if path[2] == 'type' else path[2]}"


def to_input(state: dict[str, Any], *, setup_now: bool | None = None) -> dict[str, Any]:
    """StartTrialInput (with `setup_now`) or ExistingCustomerTrialInput (without)."""
    services = [s for s in state.get("services", []) if s in SERVICE_TYPES]
    data: dict[str, Any] = {
        "companyName": state.get("companyName", ""), "adminEmail": state.get("adminEmail", ""),
        "businessVertical": state.get("businessVertical", ""), "country": state.get("country", ""),
        "supportedLocationConfirmed": state.get("supportedLocationConfirmed") == "on",
        "services": services, "licenseCount": whole_number(state.get("licenseCount")),
        "durationDays": whole_number(state.get("durationDays")),
        "devices": devices(state) if "DEVICES" in services else [],
    }
    if "MEETINGS" in services:
        data["meetings"] = {"edition": _one_of(state.get("meetings.edition"), ("BASIC", "ENTERPRISE"), "BASIC"),
                            "siteUrl": state.get("meetings.siteUrl") or None,
                            "timeZone": state.get("meetings.timeZone") or None,
                            "features": [f for f in state.get("meetings.features", []) if f in FEATURES]}
    if "CALLING" in services:
        data["calling"] = {"pstn": _one_of(state.get("calling.pstn"), PSTN, "CCP")}
    if setup_now is not None:
        data["setupNow"] = setup_now
    return data


def first_step_with(errors: dict[str, list[str]], order: list[str]) -> str:
    """The earliest step holding a field with an error (the review when none is on a step)."""
    found = {step_of(key) for key in errors if key}
    return next((step for step in order if step in found), "review")
