"""Who may open a page: signed-out visitors go to the sign-in page, then come back (`next`)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server.pages import rendering

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
                return rendering.render(request, "forbidden.html", {"title": rendering._("Not allowed")},
                                        status_code=403)
            return await endpoint(request)
        return guarded
    return decorate


PARTNER = ("partner_user",)
CUSTOMER_ADMIN = ("customer_admin",)
TRIALS_TEAM = ("trials_team", "partner_user")


#: Where each kind of visitor other than partner staff starts (`GET /`, server.pages.home).
HOME = {"partner_user": "/customers", "api_token": "/customers", "trials_team": "/trials-team",
        "customer_admin": "/my"}


