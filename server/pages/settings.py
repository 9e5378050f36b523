"""`/settings/users` and `/settings/tokens` (R-ROLE-02: partner full admins manage users, roles and
API tokens). Each runs a stored GraphQL document; a refused query shows the forbidden page."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.pages import guard, rendering
from server.pages.operations import OperationFailed, run_operation

ROLES = ["PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN", "SALES_ADMIN", "READ_ONLY"]


async def _page(request: Request, operation: str, template: str, extra: dict) -> Response:
    try:
        data = (await run_operation(request, operation)).data
    except OperationFailed:
        return await guard.forbidden(request, "settings")
    status = 400 if extra.get("errors") else 200
    return rendering.render(request, template, {"roles": ROLES, **data, **extra}, status_code=status)


def confirmed(form) -> bool:
    """A destructive action runs only once confirmed (the dialog's Yes, or the confirmation page's)."""
    return form.get("confirmed") == "yes"


async def confirm_page(request: Request, operation: str, key: str, item_id: str, section: str, ask) -> Response:
    """A deletion asks first, also without JavaScript: "Are you sure?" about the item `item_id` of the list `key`
    of the page's document; `ask(item)` gives (question, yes, fields). An item not in the list (not
    the visitor's) answers the page itself, as the action would have."""
    try:
        data = (await run_operation(request, operation)).data
    except OperationFailed:
        return await guard.forbidden(request, "settings")
    item = next((i for i in data[key] if i["id"] == item_id), None)
    if item is None:
        return rendering.see_other(request.url.path)
    question, yes, fields = ask(item)
    return rendering.render(request, "settings/confirm.html", {
        "title": rendering._("Are you sure?"), "viewer": data["viewer"], "question": question, "yes": yes,
        "fields": fields, "action": request.url.path, "back": request.url.path,
        "crumbs": [(request.url.path, section), ("", yes)]})


@guard.signed_in(*guard.PARTNER)
async def users(request: Request) -> Response:
    errors: list[str] = []
    if request.method == "POST":
        form = await request.form()
        if form.get("action") == "deactivate" and not confirmed(form):
            user_id = str(form.get("userId", ""))
            return await confirm_page(request, "SettingsUsers", "partnerUsers", user_id, rendering._("Users"), lambda user: (
                rendering._("Deactivate %(email)s? They can no longer sign in, and their sessions and API tokens "
                            "stop working now.", email=user["email"]),
                rendering._("Deactivate"), {"action": "deactivate", "userId": user_id}))
        if form.get("action") == "deactivate":
            result = await run_operation(request, "DeactivateUser", {"userId": str(form.get("userId", ""))})
            errors = [rendering.message_of(e) for e in result.payload("deactivateUser")["userErrors"]]
        else:
            result = await run_operation(request, "InviteUser", {
                "email": str(form.get("email", "")), "name": str(form.get("name", "")),
                "roles": [r for r in form.getlist("roles") if r in ROLES]})
            errors = [rendering.message_of(e) for e in result.payload("inviteUser")["userErrors"]]
        if not errors:
            return rendering.see_other("/settings/users")
    return await _page(request, "SettingsUsers", "settings/users.html", {"title": "Users", "errors": errors})


@guard.signed_in(*guard.PARTNER)
async def tokens(request: Request) -> Response:
    errors: list[str] = []
    created = None
    if request.method == "POST":
        form = await request.form()
        if form.get("action") == "revoke" and not confirmed(form):
            token_id = str(form.get("tokenId", ""))
            return await confirm_page(request, "SettingsTokens", "apiTokens", token_id, rendering._("API tokens"), lambda token: (
                rendering._("Revoke the token %(name)s? Every request with it is refused from now on.",
                            name=token["name"]),
                rendering._("Revoke"), {"action": "revoke", "tokenId": token_id}))
        if form.get("action") == "revoke":
            result = await run_operation(request, "RevokeApiToken", {"tokenId": str(form.get("tokenId", ""))})
            errors = [rendering.message_of(e) for e in result.payload("revokeApiToken")["userErrors"]]
            if not errors:
                return rendering.see_other("/settings/tokens")
        else:
            result = await run_operation(request, "CreateApiToken", {
                "name": str(form.get("name", "")), "roles": [r for r in form.getlist("roles") if r in ROLES]})
            payload = result.payload("createApiToken")
            errors = [rendering.message_of(e) for e in payload["userErrors"]]
            created = payload.get("token")  # shown once, on this answer only (no redirect)
    return await _page(request, "SettingsTokens", "settings/tokens.html",
                       {"title": "API tokens", "errors": errors, "created": created})


routes = [
    Route("/settings/users", users, methods=["GET", "POST"]),
    Route("/settings/tokens", tokens, methods=["GET", "POST"]),
]
