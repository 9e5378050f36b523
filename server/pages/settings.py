"""`/settings/users` and `/settings/tokens` (R-ROLE-02: partner full admins manage users, roles and
API tokens). Each runs a stored GraphQL document; a refused query shows the forbidden page."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.pages import guard, rendering
from server.pages.operations import OperationFailed, run_operation

ROLES = ["PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN", "SALES_ADMIN", "READ_ONLY"]


def _forbidden(request: Request) -> Response:
    return rendering.render(request, "forbidden.html", {"title": rendering._("Not allowed")}, status_code=403)


async def _page(request: Request, operation: str, template: str, extra: dict) -> Response:
    try:
        data = (await run_operation(request, operation)).data
    except OperationFailed:
        return _forbidden(request)
    status = 400 if extra.get("errors") else 200
    return rendering.render(request, template, {"roles": ROLES, **data, **extra}, status_code=status)


@guard.signed_in(*guard.PARTNER)
async def users(request: Request) -> Response:
    errors: list[str] = []
    if request.method == "POST":
        form = await request.form()
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
