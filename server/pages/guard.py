"""Who may open a page: signed-out visitors go to the sign-in page, then come back (`next`)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server.pages import rendering
from server.pages.operations import OperationFailed, run_operation

Endpoint = Callable[[Request], Awaitable[Response]]


def kind(request: Request) -> str:
    """The actor kind's value ("anonymous", "partner_user", "customer_admin", "trials_team", …)."""
    actor = getattr(request.state, "actor", None)
    return getattr(getattr(actor, "kind", None), "value", "anonymous")


def signed_in(*kinds: str, login: str = "/login") -> Callable[[Endpoint], Endpoint]:
    """Only these actor kinds (any signed-in one when none are named) may open the page."""
    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            who = kind(request)
            if who == "anonymous":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = rendering.see_other(f"{login}?next={quote(target)}")
                if rendering.is_htmx(request):
                    response.headers["HX-Redirect"] = login
                return response
            if kinds and who not in kinds:
                return await forbidden(request, "customer_admins_only" if kinds == CUSTOMER_ADMIN else "partners_only")
            return await endpoint(request)
        return guarded
    return decorate


PARTNER = ("partner_user",)
CUSTOMER_ADMIN = ("customer_admin",)
TRIALS_TEAM = ("trials_team", "partner_user")


#: Where each kind of visitor other than partner staff starts (`GET /`, server.pages.home).
HOME = {"partner_user": "/customers", "api_token": "/customers", "trials_team": "/trials-team",
        "customer_admin": "/my"}




def _(message: str) -> str:
    """Marks a message for translations/update.py; `forbidden` translates it in the visitor's locale."""
    return message


#: Why a page is refused and what to do about it: never a bare "Not allowed" (a person must know
#: whom to ask).
REASONS = {
    "start_trials": _("Starting trials needs a sales role (sales full admin or sales admin). "
                      "Ask your partner full admin to give you one."),
    "settings": _("Users, API tokens and webhooks are managed by partner full admins. "
                  "Ask your partner full admin to make the change, or to give you that role."),
    "trials_team": _("The trials team queue is for the platform's trials team, who ship and take back devices."),
    "partners_only": _("This page is for partner staff."),
    "customer_admins_only": _("This page is for customer administrators."),
}


async def viewer(request: Request) -> dict | None:
    """The signed-in visitor for the header of a page that ran no document of its own."""
    if kind(request) == "anonymous":
        return None
    try:
        return (await run_operation(request, "Viewer")).data["viewer"]
    except OperationFailed:
        return None


async def forbidden(request: Request, reason: str, context: dict | None = None) -> Response:
    """403 in the page frame, saying why (`REASONS`) and where the visitor can go instead."""
    context = dict(context or {})
    if "viewer" not in context:
        context["viewer"] = await viewer(request)
    return rendering.render(request, "forbidden.html", {
        "title": rendering._("Not allowed"), "reason": rendering._(REASONS[reason]),
        **context}, status_code=403)


async def not_found(request: Request, context: dict | None = None) -> Response:
    """404 in the page frame (header, nav, account), as every other page."""
    context = dict(context or {})
    if "viewer" not in context:
        context["viewer"] = await viewer(request)
    return rendering.render(request, "not_found.html", {"title": rendering._("Not found"), **context},
                            status_code=404)
