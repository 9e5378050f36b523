"""The customer administrator's pages: `/my` (their trials, Buy, cancel), `/my/trials/{trial}/buy`
(the Buy page: who the partner is, how to reach them, "I'm interested in buying", R-BUY-01) and
`/my/consent/{trial}` (accept or decline a partner's trial request, R-EX-04)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.pages import guard, rendering, usage_chart
from server.pages.operations import run_operation

LOGIN = "/my/login"
MY_ACTIONS = {"cancel": ("CancelTrial", "cancelTrial")}


def _orgs(data: dict) -> list[dict]:
    """The admin's orgs, each trial with its usage chart laid out (SPEC §10 R-USE-05)."""
    orgs = [edge["node"] for edge in data["customers"]["edges"]]
    for trial in (t for org in orgs for t in org["trials"]):
        if trial.get("adoption"):
            trial["usage_chart"] = usage_chart.layout(trial["adoption"]["daily"], [s["type"] for s in trial["services"]])
    return orgs


@guard.signed_in(*guard.CUSTOMER_ADMIN, login=LOGIN)
async def my_page(request: Request) -> Response:
    data = (await run_operation(request, "MyPage")).data
    orgs = _orgs(data)
    return rendering.render(request, "my/index.html", {
        "title": rendering._("Your trials"), "viewer": data["viewer"], "orgs": orgs,
        "done": request.query_params.get("done", ""), "errors": {}})


@guard.signed_in(*guard.CUSTOMER_ADMIN, login=LOGIN)
async def my_trial_action(request: Request) -> Response:
    action, trial_id = request.path_params["action"], request.path_params["trial"]
    if action not in MY_ACTIONS:
        return await guard.not_found(request)
    operation, key = MY_ACTIONS[action]
    errors = (await run_operation(request, operation, {"trialId": trial_id})).payload(key)["userErrors"]
    if errors:
        data = (await run_operation(request, "MyPage")).data
        return rendering.render(request, "my/index.html", {
            "title": rendering._("Your trials"), "viewer": data["viewer"],
            "orgs": _orgs(data), "done": "",
            "errors": rendering.errors_by_field(errors)}, status_code=422)
    return rendering.see_other(f"/my?done={action}")


#: Trial states whose services can still be bought (R-TIME-03: in grace too).
BUYABLE = ("ACTIVE", "EXPIRED", "PENDING_PROVISIONING")


@guard.signed_in(*guard.CUSTOMER_ADMIN, login=LOGIN)
async def buy_page(request: Request) -> Response:
    """R-TIME-01's Buy link (emails, `/my`) opens this page; signed out, the sign-in link comes back to it.
    Opening it changes nothing (mail scanners and link previews open links); its one button records the
    interest (R-BUY-01: the partner's admins get an email, once per trial and day)."""
    trial_id, errors = request.path_params["trial"], {}
    if request.method == "POST":
        result = await run_operation(request, "ExpressPurchaseInterest", {"trialId": trial_id})
        errors = rendering.errors_by_field(result.payload("expressPurchaseInterest")["userErrors"])
        if not errors:
            return rendering.see_other(f"/my/trials/{trial_id}/buy?done=interest")
    data = (await run_operation(request, "BuyPage", {"trialId": trial_id})).data
    if data["trial"] is None:
        return await guard.not_found(request, {"viewer": data["viewer"]})
    return rendering.render(request, "my/buy.html", {
        "title": rendering._("Buy"), "viewer": data["viewer"], "trial": data["trial"], "buyable": BUYABLE,
        "done": request.query_params.get("done") == "interest", "errors": errors},
        status_code=422 if errors else 200)


@guard.signed_in(*guard.CUSTOMER_ADMIN, login=LOGIN)
async def consent_page(request: Request) -> Response:
    trial_id = request.path_params["trial"]
    errors: dict = {}
    if request.method == "POST":
        form = await request.form()
        go = str(form.get("go", ""))
        if go == "accept":
            result = await run_operation(request, "AcceptTrialConsent", {
                "trialId": trial_id, "grantFullAdmin": form.get("grantFullAdmin") == "on"})
            errors = rendering.errors_by_field(result.payload("acceptTrialConsent")["userErrors"])
        elif go == "decline":
            result = await run_operation(request, "DeclineTrialConsent", {"trialId": trial_id})
            errors = rendering.errors_by_field(result.payload("declineTrialConsent")["userErrors"])
        else:
            errors = {"": [rendering._("Choose Accept or Decline.")]}
        if not errors:
            return rendering.see_other(f"/my?done={'accepted' if go == 'accept' else 'declined'}")
    data = (await run_operation(request, "ConsentPage", {"trialId": trial_id})).data
    trial = data["trial"]
    if trial is None:
        return await guard.not_found(request, {"viewer": data["viewer"]})
    return rendering.render(request, "consent/page.html", {
        "title": rendering._("Consent"), "viewer": data["viewer"], "trial": trial, "errors": errors},
        status_code=422 if errors else 200)


@guard.signed_in(*guard.CUSTOMER_ADMIN, login=LOGIN)
async def my_cancel_confirm(request: Request) -> Response:
    """The no-JavaScript confirmation before a customer admin cancels (R-CANCEL-01)."""
    data = (await run_operation(request, "Shell")).data
    return rendering.render(request, "my/confirm.html", {"title": rendering._("Cancel trial"), "viewer": data["viewer"],
                                                         "trial_id": request.path_params["trial"]})
