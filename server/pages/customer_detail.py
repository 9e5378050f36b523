"""`/customers/{id}`: the customer, its trials and their actions (edit, extend, convert, cancel,
resend consent, cancel the request, retry provisioning; devices: request a shipment, skip devices,
a US return label, a device extension), calling locations and numbers, and the audit timeline.

Each action is `POST /customers/{id}/trials/{trial}/{action}`: 303 back to the customer page, or,
when htmx asked, the trial's card again plus `HX-Trigger: trialChanged`. userErrors re-render the
card's form with the typed values and the errors next to their fields (422).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.pages import calling, delivery_form, guard, labels, rendering, timeline, usage_chart
from server.pages.operations import run_operation
from server.pages.wizard_form import whole_number

SERVICES = ("MESSAGING", "MEETINGS", "CALLING", "DEVICES")
OUT = ("SHIPPED", "DELIVERED", "RETURN_DUE", "RETURN_MISMATCH", "OVERDUE")  # devices at the customer
DEVICE_TYPES = ("PHONE", "DESK_DEVICE", "ROOM_DEVICE", "HEADSET")
SKIPS = ("REGISTRATION_LICENSES_ONLY", "OWN_DEVICES", "EXISTING_DEVICES", "TEST_SETUP")


async def _load(request: Request, customer_id: str) -> dict[str, Any]:
    data = (await run_operation(request, "CustomerPage", {"id": customer_id})).data
    data["auditEvents"] = []
    usage: dict[str, Any] = {}
    if data["customer"] is not None:  # auditEvents refuses (and nulls the whole answer) for a stranger
        data["auditEvents"] = (await run_operation(request, "CustomerHistory", {"id": customer_id})).data["auditEvents"]
        # SPEC §10: the trials' usage, its own document (its series takes the reference path, not the planner)
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
        trial["devices_out"] = any(sh["status"] in OUT for sh in trial["shipments"])
        trial["extension_pending"] = any(r["status"] == "PENDING" for r in trial["deviceExtensionRequests"])
        trial["last_delivery"] = delivery_form.values_of(
            next((sh["shippingAddress"] for sh in reversed(trial["shipments"]) if sh.get("shippingAddress")), None), "device")
        trial["adoption"] = usage.get(trial["id"])
        if trial["adoption"]:
            trial["usage_chart"] = usage_chart.layout(trial["adoption"]["daily"], trial["types"])
    data["calling"] = await calling.requirement(request, (data["customer"] or {}).get("trials", []))
    return data


def _history(event: dict[str, Any]) -> dict[str, Any]:
    """An audit event in words (issue 27 item 7): who did what, in the reader's language."""
    who, values, what = labels.audit_words(event)
    after = event.get("after") or {}
    role = values.get("role")
    if role:                                      # the role's words in the reader's language
        values = {**values, "role": rendering._(role)}
    return {"at": event["at"], "who": rendering._(who, **values) if values else rendering._(who),
            "what": rendering._(what, days=after.get("days", ""), subject=(event.get("subjectType") or "").lower())
            if "%(" in what else rendering._(what)}


def _context(data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    customer = data["customer"]
    roles = set(data["viewer"]["roles"])
    return {"title": customer["name"], "viewer": data["viewer"], "customer": customer, "events": [_history(e) for e in data["auditEvents"]],
            "may_manage": bool(roles & {"PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN", "SALES_ADMIN"}),
            "services": SERVICES, "forms": {}, "catalog": data["catalog"], "device_types": DEVICE_TYPES,
            "skips": SKIPS, "calling": data["calling"], "calling_form": {}, **extra}


@guard.signed_in(*guard.PARTNER)
async def customer_page(request: Request) -> Response:
    data = await _load(request, request.path_params["id"])
    if data["customer"] is None:
        return await guard.not_found(request)
    done = request.query_params.get("done", "")
    return rendering.render(request, "customers/detail.html", _context(data, done=done))


@guard.signed_in(*guard.PARTNER)
async def setup_page(request: Request) -> Response:
    """R-NEW-03 "Set up now": the first-time setup wizard's next steps for this customer."""
    data = await _load(request, request.path_params["id"])
    if data["customer"] is None:
        return await guard.not_found(request)
    return rendering.render(request, "customers/setup.html", _context(data))


def _ints(values: list[str]) -> list[str]:
    return [v for v in values if v in SERVICES]


async def _variables(action: str, trial_id: str, form) -> dict[str, Any]:
    base: dict[str, Any] = {"trialId": trial_id}
    if action == "edit":
        current = set(_ints([str(v) for v in form.getlist("current")]))
        wanted = set(_ints([str(v) for v in form.getlist("services")]))
        count = str(form.get("licenseCount", "")).strip()
        return {**base, "expectedVersion": whole_number(form.get("version")), "licenseCount": whole_number(count) if count else None,
                "addServices": sorted(wanted - current) or None, "removeServices": sorted(current - wanted) or None}
    if action == "extend":
        return {**base, "days": whole_number(form.get("days"))}
    if action == "convert":
        return {**base, "orderNumber": str(form.get("orderNumber", "")).strip(),
                "provisioningEmail": str(form.get("provisioningEmail", "")).strip(),
                "services": _ints([str(v) for v in form.getlist("services")]),
                "confirmOmitted": form.get("confirmOmitted") == "on"}
    if action == "ship":  # R-DEV-01: the model's value is "TYPE:model"; R-DEV-02: where to, to whom
        kind, _, model = str(form.get("device", "")).partition(":")
        country = str(form.get("device.shippingAddress.country", ""))
        return {**base, "device": {"type": kind if kind in DEVICE_TYPES else "PHONE", "model": model,
                                   "quantity": whole_number(form.get("quantity")),
                                   "poeConfirmed": form.get("poeConfirmed") == "on",
                                   **delivery_form.to_input(form, "device", country)}}
    if action == "skip":
        skip = str(form.get("skip", ""))
        return {**base, "skip": skip if skip in SKIPS else SKIPS[0]}
    if action == "device-extension":
        return {**base, "days": whole_number(form.get("days")), "reason": str(form.get("reason", "")).strip() or None}
    if action == "return-label":
        return {"shipmentId": str(form.get("shipmentId", ""))}
    return base


ACTIONS = {"edit": ("UpdateTrial", "updateTrial"), "extend": ("ExtendTrial", "extendTrial"),
           "convert": ("ConvertTrial", "convertTrial"), "cancel": ("CancelTrial", "cancelTrial"),
           "resend": ("ResendConsent", "resendConsent"), "withdraw": ("CancelTrialRequest", "cancelTrialRequest"),
           "retry": ("RetryProvisioning", "retryProvisioning"), "ship": ("RequestShipment", "requestShipment"),
           "skip": ("SkipDevices", "skipDevices"), "return-label": ("RequestReturnLabel", "requestReturnLabel"),
           "device-extension": ("RequestDeviceExtension", "requestDeviceExtension")}


@guard.signed_in(*guard.PARTNER)
async def trial_action(request: Request) -> Response:
    customer_id, trial_id, action = (request.path_params[k] for k in ("id", "trial", "action"))
    if action not in ACTIONS:
        return await guard.not_found(request)
    if request.method == "GET":  # the no-JavaScript confirmation step of a cancel
        if action not in ("cancel", "withdraw"):
            return rendering.see_other(f"/customers/{customer_id}")
        data = await _load(request, customer_id)
        if data["customer"] is None:
            return await guard.not_found(request)
        trial = next((t for t in data["customer"]["trials"] if t["id"] == trial_id), None)
        return rendering.render(request, "customers/confirm.html", _context(data, trial=trial, action=action))
    form = await request.form()
    operation, key = ACTIONS[action]
    result = await run_operation(request, operation, await _variables(action, trial_id, form))
    errors = result.payload(key)["userErrors"]
    if not errors and action == "withdraw":  # R-EX-05: the customer leaves the partner's list
        return rendering.see_other("/customers")
    if not errors and not rendering.is_htmx(request):
        return rendering.see_other(f"/customers/{customer_id}?done={action}")
    data = await _load(request, customer_id)
    if data["customer"] is None:  # e.g. a cancelled consent request: the customer left the list
        return rendering.see_other("/customers")
    forms = {trial_id: {"action": action, "values": form, "errors": rendering.errors_by_field(errors)}} if errors else {}
    context = _context(data, forms=forms, done="" if errors else action, done_trial="" if errors else trial_id)
    if rendering.is_htmx(request):
        trial = next((t for t in data["customer"]["trials"] if t["id"] == trial_id), None)
        if trial is None:
            return rendering.see_other(f"/customers/{customer_id}")
        response = rendering.render(request, "customers/_trial.html", {**context, "trial": trial},
                                    status_code=422 if errors else 200)
        return response if errors else rendering.trigger(response, "trialChanged", {"action": action})
    return rendering.render(request, "customers/detail.html", context, status_code=422)
