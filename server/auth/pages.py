"""Sign-in pages: `/login`, `/logout`, `/my/login` (ask for a sign-in link), `/auth/magic/{token}`.

They live beside the sessions rather than in `server/pages/` because signing in is what creates
the actor the GraphQL layer later trusts: it needs the users and sessions tables, which pages may
not touch (import-linter). Everything after sign-in is a normal page running GraphQL documents.

For the consent page (lifecycle/portal): `await sign_in_customer_admin(request, response,
customer_user_id)` starts a customer-admin session on the response you return.
"""
from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from server.auth import links, signin
from server.auth.middleware import clear_session_cookie, set_session_cookie
from server.auth.sessions import COOKIE, session_id_from_cookie
from server.domain import users
from server.domain.actor import ActorKind
from server.domain.errors import DomainError

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[2] / "web" / "templates"))

LINK_PROBLEMS = {
    "expired": "This sign-in link has expired. Ask for a new one.",
    "used": "This sign-in link has been used already. Ask for a new one.",
    "invalid": "This sign-in link is not valid. Ask for a new one.",
}


def _render(request: Request, template: str, context: dict, status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, template, {"csrf_token": request.state.csrf_token, **context},
                                      status_code=status_code)


def landing(kind: ActorKind) -> str:
    """Where a fresh session starts."""
    return {ActorKind.TRIALS_TEAM: "/trials-team", ActorKind.CUSTOMER_ADMIN: "/my"}.get(kind, "/customers")


async def login(request: Request) -> Response:
    if request.method == "GET":
        return _render(request, "auth/login.html", {"title": "Sign in", "email": ""})
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    state = request.app.state
    ip = request.client.host if request.client else None
    async with state.sessionmaker() as db, db.begin():
        try:
            session_id, actor = await signin.with_password(db, email, password, ip)
        except signin.SignInError as error:
            problem = error.message
        else:
            problem = None
            await signin.sign_out(db, session_id_from_cookie(state.settings.secret_key, request.cookies.get(COOKIE)))
    if problem:
        return _render(request, "auth/login.html", {"title": "Sign in", "email": email, "error": problem}, 400)
    response = RedirectResponse(landing(actor.kind), status_code=303)
    set_session_cookie(response, state.settings, session_id)
    return response


async def logout(request: Request) -> Response:
    state = request.app.state
    async with state.sessionmaker() as db, db.begin():
        await signin.sign_out(db, session_id_from_cookie(state.settings.secret_key, request.cookies.get(COOKIE)))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, state.settings)
    return response


async def request_link(request: Request) -> Response:
    """Customer admins ask for a sign-in link; the answer is the same whether the email is known."""
    if request.method == "GET":
        return _render(request, "auth/request_link.html", {"title": "Sign in", "sent": False})
    form = await request.form()
    state = request.app.state
    async with state.sessionmaker() as db, db.begin():
        await signin.request_magic_link(db, state.settings.secret_key, state.settings.base_url,
                                        str(form.get("email", "")))
    return _render(request, "auth/request_link.html", {"title": "Sign in", "sent": True})


async def magic(request: Request) -> Response:
    state = request.app.state
    try:
        async with state.sessionmaker() as db, db.begin():
            session_id = await signin.with_magic_link(db, state.settings.secret_key, request.path_params["token"])
    except links.LinkError as error:
        return _render(request, "auth/link_error.html",
                       {"title": "Sign-in link", "message": LINK_PROBLEMS.get(error.reason, LINK_PROBLEMS["invalid"])},
                       400)
    response = RedirectResponse("/my", status_code=303)
    set_session_cookie(response, state.settings, session_id)
    return response


async def set_password(request: Request) -> Response:
    """The set-password link from an invitation: choose a password, then sign in."""
    token = request.path_params["token"]
    context = {"title": "Choose a password", "token": token}
    if request.method == "GET":
        return _render(request, "auth/set_password.html", context)
    form = await request.form()
    try:
        async with request.app.state.sessionmaker() as db, db.begin():
            await users.set_password_by_link(db, token, str(form.get("password", "")))
    except links.LinkError as error:
        message = LINK_PROBLEMS.get(error.reason, LINK_PROBLEMS["invalid"]).replace("sign-in", "set-password")
        return _render(request, "auth/set_password.html", {**context, "error": message, "dead": True}, 400)
    except DomainError as error:
        return _render(request, "auth/set_password.html", {**context, "error": error.message}, 400)
    return RedirectResponse("/login", status_code=303)


async def sign_in_customer_admin(request: Request, response: Response, customer_user_id: int) -> None:
    """Start a customer-admin session and set its cookie on `response` (consent links, R-EX-04).
    Raises links.LinkError("invalid") when that person is not a customer admin."""
    state = request.app.state
    async with state.sessionmaker() as db, db.begin():
        session_id = await signin.customer_admin_session(db, customer_user_id)
        await signin.sign_out(db, session_id_from_cookie(state.settings.secret_key, request.cookies.get(COOKIE)))
    set_session_cookie(response, state.settings, session_id)


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/my/login", request_link, methods=["GET", "POST"]),
    Route("/auth/magic/{token}", magic),
    Route("/auth/set-password/{token}", set_password, methods=["GET", "POST"]),
]
