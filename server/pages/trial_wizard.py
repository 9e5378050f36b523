"""`/trials/new` (R-NEW-01..03) and `/trials/existing` (R-EX-01..03): one wizard, two endings.

GET shows the first step. Each POST carries every answer (see `wizard_form`) plus `step` (where
the visitor was) and `go` (`next`, `back`, `save`, `setup-yes`, `setup-no`, `send`). Only the
last step runs a mutation; its userErrors send the visitor back to the step of the first field
in error, with every answer kept.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.pages import guard, rendering
from server.pages import wizard_form as wf
from server.pages.operations import OperationFailed, run_operation

async def _options(request: Request) -> dict[str, Any]:
    data = (await run_operation(request, "TrialWizardOptions")).data
    catalog: dict[str, list[dict[str, Any]]] = {}
    for model in data["deviceCatalog"]:
        catalog.setdefault(model["type"], []).append(model)
    return {**data, "catalog": catalog, "regions": {c["code"]: c["region"] for c in data["countries"]}}


def _may_start(viewer: dict[str, Any]) -> bool:
    return bool({"SALES_FULL_ADMIN", "SALES_ADMIN"} & set(viewer["roles"]))


async def _page(request: Request, state: dict[str, Any], step: str, *, existing: bool, errors=None,
                extra: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    options = await _options(request)
    order = wf.steps(state, existing)
    context = {
        "title": rendering._("Trial for an existing customer") if existing else rendering._("Start new trial"),
        "viewer": options["viewer"], "options": options, "state": state, "step": step, "order": order,
        "hidden": wf.hidden(state, step), "existing": existing, "errors": errors or {},
        "action": "/trials/existing" if existing else "/trials/new", "device_types": wf.DEVICE_TYPES,
        "skips": wf.SKIPS, "device_input": wf.devices(state), **(extra or {}),
    }
    if not _may_start(options["viewer"]):
        return await guard.forbidden(request, "start_trials", {"viewer": options["viewer"]})
    return rendering.render(request, "trials/wizard.html", context, status_code=status_code)


def _neighbour(order: list[str], step: str, offset: int) -> str:
    index = order.index(step) if step in order else len(order)  # the "Set up now?" question follows the review
    return order[max(0, min(len(order) - 1, index + offset))]


@guard.signed_in(*guard.PARTNER)
async def new_trial(request: Request) -> Response:
    return await _wizard(request, existing=False)


@guard.signed_in(*guard.PARTNER)
async def existing_trial(request: Request) -> Response:
    return await _wizard(request, existing=True)


async def _wizard(request: Request, *, existing: bool) -> Response:
    if request.method == "GET":
        return await _page(request, {"licenseCount": "10", "durationDays": "30"}, "customer", existing=existing)
    form = await request.form()
    state, step, go = wf.read(form), str(form.get("step", "customer")), str(form.get("go", "next"))
    order = wf.steps(state, existing)
    if go == "back":
        return await _page(request, state, _neighbour(order, step, -1), existing=existing)
    # Every step up to this one, not only this one: the step is a form field (a forged or stale one
    # must not skip the customer step's answers: that answered a 500).
    for reached in order[:order.index(step) + 1] if step in order else [*order, step]:
        problems = wf.missing(state, reached)
        if reached == "devices" and wf.devices(state):  # R-DEV-01: the catalog's limits, before the review
            problems.update(wf.over_limit(state, (await _options(request))["deviceCatalog"]))
        if problems:
            return await _page(request, state, reached, existing=existing, errors=_translated(problems),
                               status_code=422)
    if existing and step == "customer":
        return await _confirm(request, state)
    if go == "next":
        return await _next(request, state, _neighbour(order, step, 1), existing)
    if go == "save" and not existing:
        return await _page(request, state, "setup", existing=False)
    if go in ("setup-yes", "setup-no") and not existing:
        return await _start(request, state, setup_now=go == "setup-yes")
    if go == "send" and existing:
        return await _send(request, state)
    return await _page(request, state, step, existing=existing)


async def _next(request: Request, state: dict[str, Any], step: str, existing: bool) -> Response:
    extra = {}
    if existing and step in ("services", "review"):
        try:
            extra["availability"] = await _availability(request, state)
        except OperationFailed as refused:  # e.g. not an email address: the customer step says so
            return await _page(request, state, "customer", existing=True, status_code=422,
                               errors={"adminEmail": [rendering.message_of({**(e.get("extensions") or {}),
                                                                     "message": e.get("message", "")})
                                                for e in refused.errors] or
                                       [rendering.message_of({"code": "NOT_AN_EXISTING_ORG"})]})
    return await _page(request, state, step, existing=existing, extra=extra)


async def _availability(request: Request, state: dict[str, Any]) -> list[dict[str, Any]]:
    # Its own document: the lookup's rate limit must not be counted twice at once (one request each).
    result = await run_operation(request, "AvailableServices", {"adminEmail": state.get("adminEmail", "")})
    return result.data["availableServices"]


def _translated(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: [rendering._(m) for m in messages] for key, messages in problems.items()}


async def _confirm(request: Request, state: dict[str, Any]) -> Response:
    """R-EX-01: the org behind the email (name and country only), or "check the email and go back"."""
    result = await run_operation(request, "ExistingOrganization", {"adminEmail": state.get("adminEmail", "")})
    org = result.data["existingOrganization"]
    if org is None:  # back on the customer step, the email marked (aria-invalid) with the message beside it
        limited = any((e.get("extensions") or {}).get("code") == "RATE_LIMITED" for e in result.errors)
        code = "RATE_LIMITED" if limited else "NOT_AN_EXISTING_ORG"
        return await _page(request, state, "customer", existing=True, status_code=422,
                           errors={"adminEmail": [rendering.message_of({"code": code})]})
    return await _page(request, state, "confirm", existing=True, extra={"organization": org})


async def _start(request: Request, state: dict[str, Any], *, setup_now: bool) -> Response:
    result = await run_operation(request, "StartTrial", {"input": wf.to_input(state, setup_now=setup_now)})
    payload = result.payload("startTrial")
    if payload["userErrors"]:
        return await _back_to_error(request, state, payload["userErrors"], existing=False)
    trial, customer = payload["trial"], payload["trial"]["customer"]
    skip = state.get("devices.skip", "")
    if "DEVICES" in state.get("services", []) and not wf.devices(state) and skip in wf.SKIPS:
        await run_operation(request, "SkipDevices", {"trialId": trial["id"], "skip": skip})
    return rendering.see_other(f"/customers/{customer['id']}/setup" if setup_now else f"/customers/{customer['id']}")


async def _send(request: Request, state: dict[str, Any]) -> Response:
    result = await run_operation(request, "RequestTrialForExistingCustomer", {"input": wf.to_input(state)})
    payload = result.payload("requestTrialForExistingCustomer")
    if payload["userErrors"]:
        return await _back_to_error(request, state, payload["userErrors"], existing=True)
    return rendering.see_other(f"/customers/{payload['trial']['customer']['id']}?sent=1")


async def _back_to_error(request: Request, state: dict[str, Any], user_errors: list[dict[str, Any]],
                         *, existing: bool) -> Response:
    errors = rendering.errors_by_field(user_errors, key_of=lambda path: wf.error_key(path, state))
    step = wf.first_step_with(errors, wf.steps(state, existing))
    extra = {"availability": await _availability(request, state)} if existing else {}
    return await _page(request, state, step, existing=existing, errors=errors, extra=extra, status_code=422)


@guard.signed_in(*guard.PARTNER)
async def site_url_check(request: Request) -> Response:
    """Live feedback on a Meetings site name as it is typed: its format and whether it is free (R-SVC-02)."""
    raw = request.query_params.get("meetings.siteUrl", "").strip()
    check = None
    if raw:
        check = (await run_operation(request, "SiteUrlCheck", {"name": raw[:200]})).data["siteUrlAvailable"]
    return rendering.render(request, "trials/_site_url_check.html", {"check": check})
