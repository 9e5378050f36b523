"""Calling on the customer page (R-SVC-03): what the numbers requirement is and what is missing,
add a calling location (postal address and time zone), assign numbers to a location.

`POST /customers/{id}/calling/location` and `…/calling/numbers` answer 303 back to the customer
page; userErrors re-render the page (422) with the typed values and each error next to its field.
"""
from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.pages import guard, rendering
from server.pages.operations import run_operation

CALLING_STATES = ("PENDING_PROVISIONING", "ACTIVE", "EXPIRED", "CONVERTED")
ADDRESS = ("line1", "line2", "city", "postalCode", "region", "country")


async def requirement(request: Request, trials: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest calling trial, its numbers requirement and the form's choices (None: no calling)."""
    found = [t for t in trials if t["state"] in CALLING_STATES and any(s["type"] == "CALLING" for s in t["services"])]
    if not found:
        return None
    trial = max(found, key=lambda t: t["startsAt"] or "")
    result = await run_operation(request, "CallingRequirement", {"trialId": trial["id"]})
    options = (await run_operation(request, "CallingOptions")).data
    return {"trial": trial, "requirement": result.data["callingRequirement"], **options}


def numbers_of(text: str) -> list[str]:
    """One number a line (commas and semicolons too); spaces inside a number are kept for the parser."""
    return [n.strip() for n in re.split(r"[\n,;]+", text) if n.strip()]


def _variables(action: str, customer_id: str, form) -> dict[str, Any]:
    if action == "location":
        address = {key: str(form.get(key, "")).strip() for key in ADDRESS}
        for optional in ("line2", "region"):
            address[optional] = address[optional] or None
        return {"customerId": customer_id, "name": str(form.get("name", "")).strip(), "address": address,
                "timeZone": str(form.get("timeZone", ""))}
    return {"locationId": str(form.get("locationId", "")), "numbers": numbers_of(str(form.get("numbers", ""))),
            "port": form.get("port") == "on"}


OPERATIONS = {"location": ("AddCallingLocation", "addCallingLocation"), "numbers": ("AssignNumbers", "assignNumbers")}


@guard.signed_in(*guard.PARTNER)
async def calling_action(request: Request) -> Response:
    from server.pages import customer_detail

    customer_id, action = request.path_params["id"], request.path_params["action"]
    if action not in OPERATIONS:
        return await guard.not_found(request)
    form = await request.form()
    operation, key = OPERATIONS[action]
    result = await run_operation(request, operation, _variables(action, customer_id, form))
    errors = result.payload(key)["userErrors"]
    if not errors:
        return rendering.see_other(f"/customers/{customer_id}?done={action}#calling-h")
    data = await customer_detail.load(request, customer_id)
    if data["customer"] is None:
        return rendering.see_other("/customers")
    aliases = {f"numbers.{i}": "numbers" for i in range(200)}
    aliases.update({f"address.{k}": k for k in ADDRESS})
    calling_form = {"action": action, "values": form, "location": str(form.get("locationId", "")),
                    "errors": rendering.errors_by_field(errors, aliases=aliases)}
    return rendering.render(request, "customers/detail.html",
                            customer_detail.context(data, calling_form=calling_form), status_code=422)
