"""`POST /customers/extend`: extend the trials ticked on the customers list by +30/+60/+90 days in
one action (R-EXT-01 for many trials). It runs the stored `ExtendTrials` document (`extendTrials`: R-EXT-01 and
R-ROLE-02 per trial, nothing of a refused trial changed) and shows one line per trial, done (with
the new end date) or refused and why, above the list again with the same filters.

Without JavaScript the form posts and the whole list page comes back with the result lines (a
result page, so not a redirect: the lines exist only in this answer); with htmx only `#results`
is swapped and an `HX-Trigger: trialsExtended` event is sent. Bad input (nothing ticked, days not
30/60/90) answers 422 with the message and changes nothing.
"""
from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.pages import customers, guard, rendering
from server.pages.operations import run_operation
from server.pages.wizard_form import whole_number

CHOICES = (30, 60, 90)


def _days(form: FormData) -> int:
    return whole_number(form.get("days", ""))


def _names(customers_shown: list[dict[str, Any]]) -> dict[str, str]:
    """Trial ID → customer name, for the lines of trials that were refused (their answer has no trial)."""
    return {trial["id"]: customer["name"] for customer in customers_shown for trial in customer["trials"]}


def lines(results: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """One line per trial: who, done or not, and the new end date or the reasons."""
    found = []
    for result in results:
        trial = result["trial"]
        found.append({"trial_id": result["trialId"], "done": trial is not None and not result["userErrors"],
                      "customer": (trial or {}).get("customer") or {},
                      "name": ((trial or {}).get("customer") or {}).get("name") or names.get(result["trialId"], ""),
                      "ends": ((trial or {}).get("endsAt") or "")[:10], "days_left": (trial or {}).get("daysLeft"),
                      "reasons": [rendering.message_of(e) for e in result["userErrors"]]})
    return found


@guard.signed_in(*guard.PARTNER)
async def extend_selected(request: Request) -> Response:
    form = await request.form()
    ids = [str(v) for v in form.getlist("trial")][:101]
    days = _days(form)
    if ids:
        result = await run_operation(request, "ExtendTrials", {"input": {"trialIds": ids, "days": days}})
        payload = result.payload("extendTrials")
    else:  # the API refuses it too (INVALID_INPUT); said here in the visitor's language
        payload = {"userErrors": [{"code": "NOTHING_TICKED", "message": rendering._("Tick at least one trial to extend.")}]}
    listing = await customers.listing(request, filters={"q": str(form.get("q", "")).strip()[:200],
                                                        "status": str(form.get("status", "")),
                                                        "adoption": str(form.get("adoption", "")),
                                                        "order": str(form.get("order", ""))},
                                      after=str(form.get("after", "")) or None)
    errors = [rendering.message_of(e) for e in payload["userErrors"]]
    bulk = {"days": days if days in CHOICES else None, "errors": errors,
            "lines": lines(payload.get("results") or [], _names(listing["customers"]))}
    context = {**listing, "bulk": bulk}
    status = 422 if errors else 200
    if rendering.is_htmx(request):
        response = rendering.render(request, "customers/_results.html", context, status_code=status)
        return response if errors else rendering.trigger(response, "trialsExtended",
                                                         {"done": sum(1 for line in bulk["lines"] if line["done"])})
    return rendering.render(request, "customers/index.html", context, status_code=status)
