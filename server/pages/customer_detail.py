"""`/customers/{id}`: the customer, its trials and their actions (edit, extend, convert, cancel,
resend consent, cancel the request, retry provisioning; devices: request a shipment, skip devices,
a US return label, a device extension), calling locations and numbers, and the audit timeline.

Each trial action is its own endpoint (server.pages.trial_actions); which ones a trial's card offers
is the API's answer, `Trial.viewerCan` (R-ROLE-02 and the trial's state, as the mutations decide).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.pages import audit_sentence, calling, delivery_form, guard, rendering, timeline, usage_chart
from server.pages.operations import run_operation

SERVICES = ("MESSAGING", "MEETINGS", "CALLING", "DEVICES")
DEVICE_TYPES = ("PHONE", "DESK_DEVICE", "ROOM_DEVICE", "HEADSET")
SKIPS = ("REGISTRATION_LICENSES_ONLY", "OWN_DEVICES", "EXISTING_DEVICES", "TEST_SETUP")


async def load(request: Request, customer_id: str) -> dict[str, Any]:
    data = (await run_operation(request, "CustomerPage", {"id": customer_id})).data
    data["auditEvents"] = []
    usage: dict[str, Any] = {}
    if data["customer"] is not None:  # auditEvents refuses (and nulls the whole answer) for a stranger
        data["auditEvents"] = (await run_operation(request, "CustomerHistory", {"id": customer_id})).data["auditEvents"]
        # SPEC §10: the trials' usage, its own document (planned whole too since issue 25: services, daily(days:))
        found = (await run_operation(request, "CustomerUsage", {"id": customer_id})).data["customer"] or {}
        usage = {t["id"]: t["adoption"] for t in found.get("trials", [])}
    catalog: dict[str, list[dict[str, Any]]] = {}
    for model in data["deviceCatalog"]:
        catalog.setdefault(model["type"], []).append(model)
    data["catalog"] = catalog
    for trial in (data["customer"] or {}).get("trials", []):
        trial["milestones"] = timeline.milestones(trial)
        end = datetime.fromisoformat(trial["endsAt"]) if trial.get("endsAt") else None
        trial["extensions"] = [(d, (end + timedelta(days=d)).date().isoformat() if end else "")
                               for d in data["trialDurations"]]
        trial["types"] = [s["type"] for s in trial["services"]]
        trial["shipped_types"] = {sh["deviceType"] for sh in trial["shipments"]}
        trial["devices_out"] = any(sh["atCustomer"] for sh in trial["shipments"])
        trial["extension_pending"] = any(r["status"] == "PENDING" for r in trial["deviceExtensionRequests"])
        trial["last_delivery"] = delivery_form.values_of(
            next((sh["shippingAddress"] for sh in reversed(trial["shipments"]) if sh.get("shippingAddress")), None), "device")
        trial["adoption"] = usage.get(trial["id"])
        if trial["adoption"]:
            trial["usage_chart"] = usage_chart.layout(trial["adoption"]["daily"], trial["types"])
    data["calling"] = await calling.requirement(request, (data["customer"] or {}).get("trials", []))
    return data


def _history(event: dict[str, Any]) -> dict[str, Any]:
    """An audit event in words, with its time (SPEC §9: the history a partner reads; server.pages.audit_sentence)."""
    return {"at": event["at"], **audit_sentence.who_and_what(event)}


def context(data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The page's template context. `may_manage`: the customer's calling locations and numbers may be
    changed (any of its trials the viewer may manage, `viewerCan.manage`)."""
    customer = data["customer"]
    return {"title": customer["name"], "viewer": data["viewer"], "customer": customer, "events": [_history(e) for e in data["auditEvents"]],
            "may_manage": any(t["viewerCan"]["manage"] for t in customer["trials"]),
            "services": SERVICES, "forms": {}, "catalog": data["catalog"], "device_types": DEVICE_TYPES,
            "skips": SKIPS, "calling": data["calling"], "calling_form": {}, **extra}


@guard.signed_in(*guard.PARTNER)
async def customer_page(request: Request) -> Response:
    data = await load(request, request.path_params["id"])
    if data["customer"] is None:
        return await guard.not_found(request)
    done = request.query_params.get("done", "")
    return rendering.render(request, "customers/detail.html", context(data, done=done))


@guard.signed_in(*guard.PARTNER)
async def setup_page(request: Request) -> Response:
    """R-NEW-03 "Set up now": the first-time setup wizard's next steps for this customer."""
    data = await load(request, request.path_params["id"])
    if data["customer"] is None:
        return await guard.not_found(request)
    return rendering.render(request, "customers/setup.html", context(data))
