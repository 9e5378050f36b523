"""POST /graphql with a bearer token, straight from the app's ASGI call (server.app.Trialdesk): an
integration's every request. It does what the middleware stack and the router do for such a request,
in one frame instead of their seven layers (each a coroutine and a wrapped `send`; ~10 % of a planned
detail's server CPU, bench.postgraphile):

- the request ID (server.middleware.begin_request) on the scope, the log lines and the response;
- the caller as AuthMiddleware leaves a bearer request to `/graphql` (after the test clock's refresh
  when it is on): ANONYMOUS until the endpoint checks the token (`bearer_token` in the scope's state;
  no cookie, no CSRF check: bearer requests need none);
- the endpoint (server.app.graphql_endpoint) and its response with `x-request-id`, then the security
  headers (SecurityHeadersMiddleware.secured), in the general path's order;
- an exception before the response started: Starlette's 500 ("Internal Server Error", text/plain)
  with the security headers and no request ID, and the exception raised on (as ServerErrorMiddleware).

Any other request (another method or path, no bearer token, a root path, another middleware added)
takes the general path. tests/api/test_bearer_path.py holds both paths to the same
statuses, headers and bodies."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from server import clock
from server.auth.middleware import refresh_clock
from server.domain.core.actor import ANONYMOUS
from server.middleware import begin_request


def bearer_token(scope: Scope) -> str | None:
    """The bearer token of a POST to `/graphql` (as AuthMiddleware reads it: the first Authorization
    header), or None: the general path answers."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql" or scope.get("root_path"):
        return None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
            return authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    return None


async def answer(security: Any, endpoint: Callable[[Request], Awaitable[Response]], token: str, scope: Scope,
                 receive: Receive, send: Send) -> None:
    """The request answered by `endpoint`; `security`: the app's SecurityHeadersMiddleware (its headers)."""
    started = False
    try:
        request_id = begin_request(scope)
        await refresh_clock(scope["app"].state)
        scope["state"].update(actor=ANONYMOUS, csrf_token=None, auth_method="bearer", session_hash=None,
                              bearer_token=token, clock_offset=clock.offset())
        response = await endpoint(Request(scope, receive, send))
        headers = security.secured([*response.raw_headers, (b"x-request-id", request_id.encode())])
        started = True
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
        if response.background is not None:
            await response.background()
    except Exception:
        if not started:
            error = PlainTextResponse("Internal Server Error", status_code=500)
            await send({"type": "http.response.start", "status": 500, "headers": security.secured(error.raw_headers)})
            await send({"type": "http.response.body", "body": error.body})
        raise
