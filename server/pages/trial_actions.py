"""The customer page's trial actions, one endpoint each: `POST /customers/{id}/trials/{trial}/<action>`
runs that action's GraphQL document (web/operations/) and answers 303 back to the customer page, or,
when htmx asked, the trial's card again plus `HX-Trigger: trialChanged`. userErrors re-render the
card's form with the typed values and the errors next to their fields (422). `cancel` and `withdraw`
also answer GET: the confirmation page for a browser without JavaScript; a GET of another action goes
back to the customer page. Which buttons the card shows is the API's answer (`Trial.viewerCan`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.pages import customer_detail, delivery_form, guard, rendering
from server.pages.customer_detail import DEVICE_TYPES, SERVICES, SKIPS
from server.pages.operations import run_operation
from server.pages.wizard_form import whole_number

Variables = Callable[[Any], dict[str, Any]]
#: Actions whose GET is the no-JavaScript confirmation step.
CONFIRMED = ("cancel", "withdraw")


def _services(values: list) -> list[str]:
    return [str(v) for v in values if str(v) in SERVICES]


async def _answer(request: Request, action: str, operation: str, key: str, variables: Variables, *,
                  of_trial: bool = True) -> Response:
    """Run the action's document with the form's `variables` (and the trial's ID when `of_trial`)."""
    customer_id, trial_id = request.path_params["id"], request.path_params["trial"]
    if request.method == "GET":
        return await _confirm(request, customer_id, trial_id, action)
    form = await request.form()
    values = {"trialId": trial_id, **variables(form)} if of_trial else variables(form)
    result = await run_operation(request, operation, values)
    errors = result.payload(key)["userErrors"]
    if not errors and action == "withdraw":  # R-EX-05: the customer leaves the partner's list
        return rendering.see_other("/customers")
    if not errors and not rendering.is_htmx(request):
        return rendering.see_other(f"/customers/{customer_id}?done={action}")
    data = await customer_detail.load(request, customer_id)
    if data["customer"] is None:  # e.g. a cancelled consent request: the customer left the list
        return rendering.see_other("/customers")
    forms = {trial_id: {"action": action, "values": form, "errors": rendering.errors_by_field(errors)}} if errors else {}
    context = customer_detail.context(data, forms=forms, done="" if errors else action,
                                      done_trial="" if errors else trial_id)
    if rendering.is_htmx(request):
        trial = next((t for t in data["customer"]["trials"] if t["id"] == trial_id), None)
        if trial is None:
            return rendering.see_other(f"/customers/{customer_id}")
        response = rendering.render(request, "customers/_trial.html", {**context, "trial": trial},
                                    status_code=422 if errors else 200)
        return response if errors else rendering.trigger(response, "trialChanged", {"action": action})
    return rendering.render(request, "customers/detail.html", context, status_code=422)


async def _confirm(request: Request, customer_id: str, trial_id: str, action: str) -> Response:
    if action not in CONFIRMED:
        return rendering.see_other(f"/customers/{customer_id}")
    data = await customer_detail.load(request, customer_id)
    if data["customer"] is None:
        return await guard.not_found(request)
    trial = next((t for t in data["customer"]["trials"] if t["id"] == trial_id), None)
    return rendering.render(request, "customers/confirm.html", customer_detail.context(data, trial=trial, action=action))


@guard.signed_in(*guard.PARTNER)
async def edit(request: Request) -> Response:
    """R-EDIT-01: the license count and the services (the form's ticks against the current ones)."""
    def variables(form) -> dict[str, Any]:
        current, wanted = set(_services(form.getlist("current"))), set(_services(form.getlist("services")))
        count = str(form.get("licenseCount", "")).strip()
        return {"expectedVersion": whole_number(form.get("version")), "licenseCount": whole_number(count) if count else None,
                "addServices": sorted(wanted - current) or None, "removeServices": sorted(current - wanted) or None}
    return await _answer(request, "edit", "UpdateTrial", "updateTrial", variables)


@guard.signed_in(*guard.PARTNER)
async def extend(request: Request) -> Response:
    """R-EXT-01: 30, 60 or 90 more days."""
    return await _answer(request, "extend", "ExtendTrial", "extendTrial", lambda form: {"days": whole_number(form.get("days"))})


@guard.signed_in(*guard.PARTNER)
async def convert(request: Request) -> Response:
    """R-CONV-01: the order, the provisioning email and the services it keeps."""
    return await _answer(request, "convert", "ConvertTrial", "convertTrial", lambda form: {
        "orderNumber": str(form.get("orderNumber", "")).strip(),
        "provisioningEmail": str(form.get("provisioningEmail", "")).strip(),
        "services": _services(form.getlist("services")), "confirmOmitted": form.get("confirmOmitted") == "on"})


def _without_form(action: str, operation: str, key: str, doc: str):
    """The endpoint of an action that takes nothing but the trial."""
    @guard.signed_in(*guard.PARTNER)
    async def endpoint(request: Request) -> Response:
        return await _answer(request, action, operation, key, lambda form: {})
    endpoint.__name__, endpoint.__doc__ = action, doc
    return endpoint


cancel = _without_form("cancel", "CancelTrial", "cancelTrial", "R-CANCEL-01 (GET: the confirmation page).")
withdraw = _without_form("withdraw", "CancelTrialRequest", "cancelTrialRequest",
                         "R-EX-05: cancel and delete a request pending consent (GET: the confirmation page).")
resend = _without_form("resend", "ResendConsent", "resendConsent", "R-EX-05: the consent email again.")
retry = _without_form("retry", "RetryProvisioning", "retryProvisioning",
                      "R-NEW-04: provisioning again after UNABLE_TO_PROVISION.")


@guard.signed_in(*guard.PARTNER)
async def ship(request: Request) -> Response:
    """R-DEV-01: a shipment of one device type (the model's value is "TYPE:model"); R-DEV-02: where to, to whom."""
    def variables(form) -> dict[str, Any]:
        kind, _, model = str(form.get("device", "")).partition(":")
        country = str(form.get("device.shippingAddress.country", ""))
        return {"device": {"type": kind if kind in DEVICE_TYPES else "PHONE", "model": model,
                           "quantity": whole_number(form.get("quantity")), "poeConfirmed": form.get("poeConfirmed") == "on",
                           **delivery_form.to_input(form, "device", country)}}
    return await _answer(request, "ship", "RequestShipment", "requestShipment", variables)


@guard.signed_in(*guard.PARTNER)
async def skip(request: Request) -> Response:
    """R-DEV-01: no devices, and why."""
    def variables(form) -> dict[str, Any]:
        reason = str(form.get("skip", ""))
        return {"skip": reason if reason in SKIPS else SKIPS[0]}
    return await _answer(request, "skip", "SkipDevices", "skipDevices", variables)


@guard.signed_in(*guard.PARTNER)
async def return_label(request: Request) -> Response:
    """R-RMA-01: a US return label for a shipment."""
    return await _answer(request, "return-label", "RequestReturnLabel", "requestReturnLabel",
                         lambda form: {"shipmentId": str(form.get("shipmentId", ""))}, of_trial=False)


@guard.signed_in(*guard.PARTNER)
async def device_extension(request: Request) -> Response:
    """R-EXT-02: ask the trials team for more days with the devices."""
    return await _answer(request, "device-extension", "RequestDeviceExtension", "requestDeviceExtension", lambda form: {
        "days": whole_number(form.get("days")), "reason": str(form.get("reason", "")).strip() or None})


def routes() -> list[Route]:
    endpoints = {"edit": edit, "extend": extend, "convert": convert, "cancel": cancel, "withdraw": withdraw,
                 "resend": resend, "retry": retry, "ship": ship, "skip": skip, "return-label": return_label,
                 "device-extension": device_extension}
    return [Route(f"/customers/{{id}}/trials/{{trial}}/{name}", endpoint, methods=["GET", "POST"])
            for name, endpoint in endpoints.items()]
