"""Sign-in pages: `/login`, `/logout`, `/my/login` (ask for a sign-in link), `/auth/magic/{token}`.

They live beside the sessions rather than in `server/pages/` because signing in is what creates
the actor the GraphQL layer later trusts: it needs the users and sessions tables, which pages may
not touch (import-linter). Everything after sign-in is a normal page running GraphQL documents.

No user enumeration: a refused `/login` answers the same bytes whatever the email (one
message, the email field left empty rather than echoing what was typed, which would make a known
and an unknown address differ), and an unknown email costs one argon2 verification like a wrong
password (`passwords.verify` burns a dummy hash). `/my/login` answers the same page either way, after
the same work (the throttle's count, `throttle.allow_link`); the link is looked up and queued after
the answer is sent, and at most LINKS_PER_ADDRESS per address and LINKS_PER_CLIENT per client go out
within 15 minutes.

For the consent page (lifecycle/portal): `await sign_in_customer_admin(request, response,
customer_user_id)` starts a customer-admin session on the response you return.
"""
from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.auth import links, passwords, signin, throttle
from server.auth.middleware import clear_session_cookie, cookie_header, set_session_cookie
from server.auth.sessions import COOKIE, session_id_from_cookie
from server.domain.orgs import users
from server.domain.core.actor import ActorKind
from server.domain.core.errors import DomainError
from server.pages.rendering import _, render, use_locale


def link_problem(reason: str, purpose: str = "sign-in") -> str:
    """Why a sign-in (or set-password) link did not work, in the request's language."""
    if purpose == "set-password":
        problems = {
            "expired": _("This set-password link has expired. Ask for a new one."),
            "used": _("This set-password link has been used already. Ask for a new one."),
            "invalid": _("This set-password link is not valid. Ask for a new one."),
        }
    else:
        problems = {
            "expired": _("This sign-in link has expired. Ask for a new one."),
            "used": _("This sign-in link has been used already. Ask for a new one."),
            "invalid": _("This sign-in link is not valid. Ask for a new one."),
        }
    return problems.get(reason, problems["invalid"])


def sign_in_problem(message: str) -> str:
    """A refused sign-in, translated (one message for unknown email and wrong password)."""
    if message == throttle.LOCKED_MESSAGE:
        return _("Too many failed sign-ins. Wait 15 minutes and try again.")
    if message == signin.FAILED_MESSAGE:
        return _("Wrong email or password.")
    return _(message)


def password_problem(message: str) -> str:
    """Why a new password was refused (the policy in `passwords`), translated."""
    if message == f"Use at least {passwords.MIN_LENGTH} characters.":
        return _("Use at least %(count)s characters.", count=passwords.MIN_LENGTH)
    if message == f"Use at most {passwords.MAX_LENGTH} characters.":
        return _("Use at most %(count)s characters.", count=passwords.MAX_LENGTH)
    return _(message)


def landing(kind: ActorKind) -> str:
    """Where a fresh session starts."""
    return {ActorKind.TRIALS_TEAM: "/trials-team", ActorKind.CUSTOMER_ADMIN: "/my"}.get(kind, "/customers")


async def login(request: Request) -> Response:
    use_locale(request)
    if request.method == "GET":
        return render(request, "auth/login.html", {"title": _("Sign in"), "email": ""})
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    state = request.app.state
    ip = request.client.host if request.client else None
    familiar = signin.familiar(state.settings.secret_key, request.cookies.get(signin.FAMILIAR_COOKIE), email)
    async with state.sessionmaker() as db, db.begin():
        try:
            session_id, actor = await signin.with_password(db, email, password, ip, familiar_device=familiar)
        except signin.SignInError as error:
            problem = sign_in_problem(error.message)
        else:
            problem = None
            await signin.sign_out(db, session_id_from_cookie(state.settings.secret_key, request.cookies.get(COOKIE)))
    if problem:  # the email is not echoed: a refusal for a known and an unknown email is byte-identical
        return render(request, "auth/login.html", {"title": _("Sign in"), "email": "", "error": problem},
                      status_code=400)
    response = RedirectResponse(landing(actor.kind), status_code=303)
    set_session_cookie(response, state.settings, session_id)
    response.headers.append("set-cookie", cookie_header(state.settings, signin.FAMILIAR_COOKIE,
                                                        signin.familiar_value(state.settings.secret_key, email),
                                                        max_age=signin.FAMILIAR_MAX_AGE))
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
    use_locale(request)
    if request.method == "GET":
        return render(request, "auth/request_link.html", {
            "title": _("Sign in"), "sent": False,
            "next": signin.landing_after_link(request.query_params.get("next")) or ""})
    form = await request.form()
    state, email = request.app.state, signin.clean_email(str(form.get("email", "")))
    next_path = signin.landing_after_link(str(form.get("next", "")))
    async with state.sessionmaker() as db, db.begin():
        allowed = await throttle.allow_link(db, email, request.client.host if request.client else None)
    response = render(request, "auth/request_link.html", {"title": _("Sign in"), "sent": True})
    if allowed:  # looked up and queued after the answer is sent: a known address answers as fast
        response.background = BackgroundTask(_send_link, state, email, next_path)
    return response


async def _send_link(state, email: str, next_path: str | None) -> None:
    async with state.sessionmaker() as db, db.begin():
        await signin.request_magic_link(db, state.settings.secret_key, state.settings.base_url, email, next_path)


async def magic(request: Request) -> Response:
    use_locale(request)
    state = request.app.state
    try:
        async with state.sessionmaker() as db, db.begin():
            session_id, landing = await signin.with_magic_link(db, state.settings.secret_key,
                                                               request.path_params["token"])
    except links.LinkError as error:
        return render(request, "auth/link_error.html",
                      {"title": _("Sign-in link"), "message": link_problem(error.reason)}, status_code=400)
    response = RedirectResponse(landing, status_code=303)   # /my, or the page the link was asked from
    set_session_cookie(response, state.settings, session_id)
    return response


async def set_password(request: Request) -> Response:
    """The set-password link from an invitation: choose a password, then sign in."""
    use_locale(request)
    token = request.path_params["token"]
    context = {"title": _("Choose a password"), "token": token}
    if request.method == "GET":
        return render(request, "auth/set_password.html", context)
    form = await request.form()
    try:
        async with request.app.state.sessionmaker() as db, db.begin():
            await users.set_password_by_link(db, token, str(form.get("password", "")))
    except links.LinkError as error:
        message = link_problem(error.reason, "set-password")
        return render(request, "auth/set_password.html", {**context, "error": message, "dead": True}, status_code=400)
    except DomainError as error:
        return render(request, "auth/set_password.html", {**context, "error": password_problem(error.message)},
                      status_code=400)
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
