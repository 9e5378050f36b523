"""Who is calling, for every HTTP request: pure ASGI middleware used by `/graphql` and the pages.

How pages (and any endpoint) get the caller — read these, never the cookies:

    request.state.actor        # server.domain.core.actor.Actor; ANONYMOUS when nobody signed in
    request.state.csrf_token   # put it in every template context as `csrf_token`
                               # (base.html renders <meta name="csrf-token"> and hx-headers)
    request.state.auth_method  # "bearer", "session" or None
    request.state.session_hash # the web_sessions row id of a cookie session, else None

The actor comes from `Authorization: Bearer <token>` (API clients) or from the signed session
cookie (`td_session`, portal users and customer admins). Anonymous visitors get a CSRF token in a
signed cookie (`td_csrf`).

One exception: on `/graphql` a bearer token is only taken from the header here and checked by the
endpoint itself (`graphql_actor`), so that the token's read and a compiled runner's statement share
one database connection (server.app, bench.compiled_page). Until the endpoint checks it,
`request.state.actor` is ANONYMOUS there (nothing is allowed before the check); the check is the
same read as everywhere (server.auth.authenticate), on every request.

CSRF is enforced here, before any endpoint runs: an unsafe request (POST, PUT, PATCH, DELETE)
that is not bearer-authenticated must carry the token in the `X-CSRF-Token` header or a
`csrf_token` form field (urlencoded or multipart; server.auth.form_head: a multipart form over 1 MB
is checked on its first megabyte and streamed on), else 403. On `/graphql` only cookie sessions
need it (header only; anonymous callers have no authority to borrow), answered as JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import clock
from server.auth import csrf, form_head, sessions
from server.auth.authenticate import TokenCheck, actor_from_bearer, actor_from_row
from server.domain.core.actor import ANONYMOUS, Actor

SKIP_PREFIXES = ("/static/", "/healthz", "/metrics")
#: Endpoints that take a bearer token and nothing else (server.ingest): a cookie gives no authority
#: there, so a cross-site request has none to borrow and needs no CSRF token (401 without a token).
BEARER_ONLY = ("/ingest/usage",)


@dataclass
class Auth:
    actor: Actor = ANONYMOUS
    method: str | None = None
    csrf_token: str | None = None
    session_hash: str | None = None
    set_cookies: list[str] = field(default_factory=list)
    bearer_token: str | None = None  # `/graphql`: checked by the endpoint (`graphql_actor`)


def secure_cookies(settings) -> bool:
    return settings.env not in ("dev", "test")


def cookie_header(settings, name: str, value: str, *, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure_cookies(settings):
        parts.append("Secure")
    return "; ".join(parts)


def set_session_cookie(response: Response, settings, session_id: str) -> None:
    value = sessions.cookie_value(settings.secret_key, session_id)
    response.headers.append("set-cookie", cookie_header(settings, sessions.COOKIE, value,
                                                        max_age=int(sessions.TTL.total_seconds())))


def clear_session_cookie(response: Response, settings) -> None:
    response.headers.append("set-cookie", cookie_header(settings, sessions.COOKIE, "", max_age=0))


async def refresh_clock(state) -> None:
    """The test clock's shared offset (never in production), before anything reads "now": a sign-in's
    new session expires by it too."""
    if clock.enabled():
        async with state.read_engine.connect() as conn:
            await clock.refresh(conn)


async def resolve(state, headers: Headers, cookies: dict[str, str], path: str) -> Auth:
    settings = state.settings
    await refresh_clock(state)
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        if path == "/graphql":
            return Auth(method="bearer", bearer_token=authorization[7:].strip())
        actor = await actor_from_bearer(state.engine, authorization[7:].strip())
        return Auth(actor=actor or ANONYMOUS, method="bearer")
    session_id = sessions.session_id_from_cookie(settings.secret_key, cookies.get(sessions.COOKIE))
    if session_id:
        found = await sessions.load_actor(state.engine, session_id)  # one statement, one round trip
        if found is not None:
            actor, csrf_token = found
            return Auth(actor=actor, method="session", csrf_token=csrf_token,
                        session_hash=sessions.session_hash(session_id))
    auth = Auth()
    if sessions.COOKIE in cookies:
        auth.set_cookies.append(cookie_header(settings, sessions.COOKIE, "", max_age=0))
    auth.csrf_token = csrf.token_from_cookie(settings.secret_key, cookies.get(csrf.COOKIE))
    if auth.csrf_token is None:
        auth.csrf_token = csrf.new_token()
        if path != "/graphql":
            auth.set_cookies.append(cookie_header(settings, csrf.COOKIE,
                                                  csrf.cookie_value(settings.secret_key, auth.csrf_token)))
    return auth


async def graphql_actor(request: Request, connection: Any = None, check: TokenCheck | None = None) -> Actor:
    """The `/graphql` request's actor, checking its bearer token now if the middleware left it
    (`connection`: an asyncpg connection to read the token on, else one is checked out; `check`: the
    token's `TokenCheck`, its row read with the planner's statement)."""
    state = request.scope["state"]
    token = state.get("bearer_token")
    if token is not None:
        state["bearer_token"] = None
        engine = request.app.state.engine
        actor = await (actor_from_row(engine, check, connection) if check is not None
                       else actor_from_bearer(engine, token, connection))
        state["actor"] = actor or ANONYMOUS
    return state["actor"]


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(SKIP_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        auth = await resolve(scope["app"].state, headers, cookie_parser(headers.get("cookie", "")), path)
        scope.setdefault("state", {}).update(actor=auth.actor, csrf_token=auth.csrf_token,
                                             auth_method=auth.method, session_hash=auth.session_hash,
                                             bearer_token=auth.bearer_token,
                                             clock_offset=clock.offset())  # pages show a moved test clock

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start" and auth.set_cookies:
                message["headers"] = [*message.get("headers", []),
                                      *((b"set-cookie", c.encode("latin-1")) for c in auth.set_cookies)]
            await send(message)

        # no cookie to set (`resolve` alone adds them: a bearer call, a signed-in session): the response as is
        sender = send_with_cookies if auth.set_cookies else send
        if auth.method != "bearer" and (scope["method"] in csrf.UNSAFE_METHODS or _graphql_get(scope, path)):
            ok, receive = await self._csrf_ok(scope, receive, headers, auth, path)
            if not ok:
                await _refusal(path)(scope, receive, sender)
                return
        await self.app(scope, receive, sender)

    async def _csrf_ok(self, scope: Scope, receive: Receive, headers: Headers, auth: Auth,
                       path: str) -> tuple[bool, Receive]:
        if path in BEARER_ONLY:
            return True, receive
        if path == "/graphql":
            return auth.method != "session" or csrf.matches(auth.csrf_token, headers.get(csrf.HEADER)), receive
        if csrf.matches(auth.csrf_token, headers.get(csrf.HEADER)):
            return True, receive
        content_type = headers.get("content-type", "")
        if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            return False, receive
        given, receive = await form_head.form_token(scope, receive, content_type)
        return csrf.matches(auth.csrf_token, given), receive


def _graphql_get(scope: Scope, path: str) -> bool:
    """A GET of `/graphql` that runs an operation (not GraphiQL's page): with a session cookie it needs
    the CSRF header like a POST, since a query may have effects (the org look-up counts and audits,
    R-EX-01) and a cross-site link or image would send the cookie."""
    return path == "/graphql" and scope["method"] == "GET" and bool(scope.get("query_string"))


def _refusal(path: str) -> Response:
    message = "Missing or invalid CSRF token. Reload the page and try again."
    if path == "/graphql":
        return JSONResponse({"errors": [{"message": message, "extensions": {"code": "CSRF_FAILED"}}]}, status_code=403)
    return HTMLResponse(f"<!doctype html><title>Forbidden</title><h1>Forbidden</h1><p>{message}</p>", status_code=403)
