"""Pure ASGI middleware: a request ID on every response and log line."""
from __future__ import annotations

import os
import re
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def begin_request(scope: Scope) -> str:
    """The request's ID (the caller's `X-Request-ID` when it is a valid one, else a new one), kept in
    the scope's state and bound to every log line of the request."""
    incoming = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"").decode("latin-1")
    request_id = incoming if _VALID.match(incoming) else os.urandom(16).hex()  # uuid4().hex's form, 1/5 the CPU
    scope.setdefault("state", {})["request_id"] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = begin_request(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


#: Pages, /graphql, static files and errors: only our own scripts and styles, no inline script or
#: style (attributes included), no eval, not framed. `data:` images: pico.css draws its checkboxes
#: and select arrows with data-URI SVGs; `data:` fonts: the vendored GraphiQL's stylesheet embeds its
#: fonts. A response that carries its own policy keeps it.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = b"max-age=31536000; includeSubDomains"
_CSP = CONTENT_SECURITY_POLICY.encode()


class SecurityHeadersMiddleware:
    """the security headers on every HTTP response. Wrapped around the whole stack
    (outside Starlette's ServerErrorMiddleware, see server.app.Trialdesk), so a 500 carries them too.
    Strict-Transport-Security only in production (dev and tests run over plain http)."""

    def __init__(self, app: ASGIApp, production: bool = False) -> None:
        self.app = app
        self.fixed = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                      (b"referrer-policy", b"same-origin")] + ([(b"strict-transport-security", HSTS)]
                                                               if production else [])

    def secured(self, headers: Any) -> list[tuple[bytes, bytes]]:
        """`headers` with the security headers after them (those the response does not set itself)."""
        headers = list(headers)
        names = {name.lower() for name, _ in headers}
        headers += [(name, value) for name, value in self.fixed if name not in names]
        if b"content-security-policy" not in names:
            headers.append((b"content-security-policy", _CSP))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.secured(message.get("headers", []))
            await send(message)

        await self.app(scope, receive, send_with_headers)
