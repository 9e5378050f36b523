"""CSRF protection for cookie-authenticated requests (DESIGN: `X-CSRF-Token` header or a
`csrf_token` form field, the token from `<meta name="csrf-token">`).

Signed-in visitors use their session's token (`web_sessions.csrf_token`). Anonymous visitors get
a random token in a signed HttpOnly cookie (`td_csrf`), so the login and sign-in-link forms are
protected too (no login CSRF). `server.auth.middleware` enforces it for every unsafe request;
pages only put `request.state.csrf_token` into their templates.
"""
from __future__ import annotations

import hmac
import secrets

from server.auth import signed_cookies

COOKIE = "td_csrf"
HEADER = "x-csrf-token"
FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cookie_value(secret: str, token: str) -> str:
    return signed_cookies.sign(secret, "csrf", token)


def token_from_cookie(secret: str, value: str | None) -> str | None:
    return signed_cookies.unsign(secret, "csrf", value)


def matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())
