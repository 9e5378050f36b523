"""`/settings/webhooks` (R-ROLE-02: partner full admins manage webhooks): a partner full admin's webhook endpoints, each endpoint's recent
deliveries, and one delivery's request and response. Each page runs stored GraphQL documents
(web/operations/); a refused or unknown object shows the forbidden or not-found page. Forms work
without JavaScript: a POST answers 303 to the page it changed, except where a secret was just made
(create, rotate), which is shown on that answer only, once.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.pages import guard, rendering
from server.pages.operations import OperationFailed, run_operation

BASE = "/settings/webhooks"


def _form(form) -> dict:
    return {"url": str(form.get("url", "")), "description": str(form.get("description", "")),
            "eventTypes": [str(t) for t in form.getlist("eventTypes")]}


@guard.signed_in(*guard.PARTNER)
async def endpoints(request: Request) -> Response:
    errors: dict[str, list[str]] = {}
    created, values = None, {}
    if request.method == "POST":
        values = _form(await request.form())
        payload = (await run_operation(request, "CreateWebhookEndpoint", values)).payload("createWebhookEndpoint")
        errors = rendering.errors_by_field(payload["userErrors"])
        if not errors:
            created, values = {"secret": payload["secret"], **payload["webhookEndpoint"]}, {}
    try:
        data = (await run_operation(request, "SettingsWebhooks")).data
    except OperationFailed:
        return await guard.forbidden(request, "settings")
    return rendering.render(request, "settings/webhooks.html",
                            {"title": rendering._("Webhooks"), "errors": errors, "created": created,
                             "values": values, **data}, status_code=400 if errors else 200)


ACTIONS = {"rotate": ("RotateWebhookSecret", "rotateWebhookSecret"), "delete": ("DeleteWebhookEndpoint", "deleteWebhookEndpoint"),
           "test": ("SendTestWebhook", "sendTestWebhook"), "enable": ("UpdateWebhookEndpoint", "updateWebhookEndpoint"),
           "disable": ("UpdateWebhookEndpoint", "updateWebhookEndpoint"), "edit": ("UpdateWebhookEndpoint", "updateWebhookEndpoint")}


@guard.signed_in(*guard.PARTNER)
async def endpoint(request: Request) -> Response:
    endpoint_id = request.path_params["id"]
    errors: dict[str, list[str]] = {}
    secret = None
    if request.method == "POST":
        form = await request.form()
        action = str(form.get("action", "edit"))
        if action not in ACTIONS:
            return rendering.see_other(f"{BASE}/{endpoint_id}")
        if action == "delete" and form.get("confirmed") != "yes":
            return await _confirm_delete(request, endpoint_id)
        operation, key = ACTIONS[action]
        variables: dict = {"id": endpoint_id}
        if action in ("enable", "disable"):
            variables["enabled"] = action == "enable"
        elif action == "edit":
            variables.update(_form(form))
        payload = (await run_operation(request, operation, variables)).payload(key)
        errors = rendering.errors_by_field(payload["userErrors"])
        if not errors and action == "delete":
            return rendering.see_other(BASE)
        if not errors and action == "rotate":
            secret = payload["secret"]
        elif not errors:
            return rendering.see_other(f"{BASE}/{endpoint_id}")
    try:
        data = (await run_operation(request, "WebhookEndpointPage", {"id": endpoint_id})).data
    except OperationFailed:
        return await guard.not_found(request)
    return rendering.render(request, "settings/webhook.html",
                            {"title": data["webhookEndpoint"]["url"], "errors": errors, "secret": secret, **data},
                            status_code=400 if errors else 200)


async def _confirm_delete(request: Request, endpoint_id: str) -> Response:
    """Delete an endpoint only once confirmed, also without JavaScript."""
    try:
        data = (await run_operation(request, "WebhookEndpointPage", {"id": endpoint_id})).data
    except OperationFailed:
        return await guard.not_found(request)
    endpoint = data["webhookEndpoint"]
    if endpoint is None:
        return await guard.not_found(request)
    return rendering.render(request, "settings/confirm.html", {
        "title": rendering._("Are you sure?"), "viewer": data["viewer"],
        "crumbs": [(BASE, rendering._("Webhooks")), (f"{BASE}/{endpoint_id}", endpoint["url"]), ("", rendering._("Delete endpoint"))],
        "question": rendering._("Delete the endpoint %(url)s? Its delivery log is deleted and events stop at once.",
                                url=endpoint["url"]),
        "yes": rendering._("Delete endpoint"), "fields": {"action": "delete"},
        "action": f"{BASE}/{endpoint_id}", "back": f"{BASE}/{endpoint_id}"})


@guard.signed_in(*guard.PARTNER)
async def delivery(request: Request) -> Response:
    delivery_id = request.path_params["id"]
    if request.method == "POST":
        payload = (await run_operation(request, "RedeliverWebhook", {"id": delivery_id})).payload("redeliverWebhook")
        if payload.get("delivery"):
            return rendering.see_other(f"{BASE}/deliveries/{payload['delivery']['id']}")
    try:
        data = (await run_operation(request, "WebhookDeliveryPage", {"id": delivery_id})).data
    except OperationFailed:
        return await guard.not_found(request)
    return rendering.render(request, "settings/webhook_delivery.html",
                            {"title": data["webhookDelivery"]["eventType"], **data})


routes = [
    Route(BASE, endpoints, methods=["GET", "POST"]),
    Route(BASE + "/deliveries/{id}", delivery, methods=["GET", "POST"]),
    Route(BASE + "/{id}", endpoint, methods=["GET", "POST"]),
]
