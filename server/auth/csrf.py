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

from itsdangerous import BadSignature, Signer

COOKIE = "td_csrf"
HEADER = "x-csrf-token"
FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _signer(secret: str) -> Signer:
    return Signer(secret, salt="trialdesk:csrf")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cookie_value(secret: str, token: str) -> str:
    return _signer(secret).sign(token).decode()


def token_from_cookie(secret: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return _signer(secret).unsign(value).decode()
    except BadSignature:
        return None


def matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())
