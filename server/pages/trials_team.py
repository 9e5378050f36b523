"""`/trials-team`: device extension requests to decide, shipments to record, returns to reconcile
(R-EXT-02, R-DEV-02, R-RMA-02). Each form posts, then 303 back to the queue."""
from __future__ import annotations

import re
from datetime import date

from starlette.requests import Request
from starlette.responses import Response

from server.pages import guard, rendering
from server.pages.operations import run_operation


async def _render(request: Request, errors: dict | None = None, status_code: int = 200, values: dict | None = None
                  ) -> Response:
    data = (await run_operation(request, "TrialsTeamQueue")).data
    if "TRIALS_TEAM" not in data["viewer"]["roles"]:
        return await guard.forbidden(request, "trials_team", {"viewer": data["viewer"]})
    return rendering.render(request, "trials_team/queue.html", {
        "title": rendering._("Trials team queue"), **data, "errors": errors or {}, "values": values or {},
        "done": request.query_params.get("done", ""), "today": date.today().isoformat()}, status_code=status_code)


@guard.signed_in(*guard.TRIALS_TEAM)
async def queue(request: Request) -> Response:
    return await _render(request)


def _serials(text: str) -> list[str]:
    return [s for s in re.split(r"[\s,;]+", text) if s]


@guard.signed_in(*guard.TRIALS_TEAM)
async def decide(request: Request) -> Response:
    form, kind, item = await request.form(), request.path_params["kind"], request.path_params["id"]
    if kind == "extension":
        result = await run_operation(request, "DecideDeviceExtension", {
            "requestId": item, "approve": form.get("go") == "approve", "note": str(form.get("note", "")) or None})
        key = "decideDeviceExtension"
    elif kind == "shipment":
        shipped_on = str(form.get("shippedOn", "")) or date.today().isoformat()
        try:
            date.fromisoformat(shipped_on)
        except ValueError:
            return await _render(request, {item: {"shippedOn": [rendering._("Enter a date.")]}}, 422, {item: form})
        result = await run_operation(request, "RecordShipment", {
            "shipmentId": item, "demoOrderNumber": str(form.get("demoOrderNumber", "")).strip(),
            "serialNumbers": _serials(str(form.get("serialNumbers", ""))), "shippedOn": shipped_on})
        key = "recordShipment"
    elif kind == "return":
        result = await run_operation(request, "RecordReturn", {
            "shipmentId": item, "serialNumbers": _serials(str(form.get("serialNumbers", "")))})
        key = "recordReturn"
    else:
        return await guard.not_found(request)
    errors = result.payload(key)["userErrors"]
    if errors:
        return await _render(request, {item: rendering.errors_by_field(errors)}, 422, {item: form})
    return rendering.see_other(f"/trials-team?done={kind}")
