"""Signed, expiring, single-use links (magic sign-in links, consent links, set-password links).

A link token is an itsdangerous signature over {purpose-specific payload, jti}; `purpose` is the
salt, so a token made for one purpose never opens another. Single use: `consume()` records the
jti in `used_tokens` (primary key), so a second use fails even under concurrency.
"""
from __future__ import annotations

import secrets
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import UsedToken


class LinkError(Exception):
    """The link is invalid, expired or used; `reason` is one of "invalid", "expired", "used"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"trialdesk:{purpose}")


def sign(secret: str, purpose: str, payload: dict[str, Any]) -> str:
    """A token for `purpose`; `payload` must be JSON-serializable. Adds a random `jti`.
    Tokens carry the (test-)clock time they were made at, so expiry follows the test clock."""
    body = {**payload, "jti": secrets.token_urlsafe(16), "iat": int(clock.now().timestamp())}
    return _serializer(secret, purpose).dumps(body)


def verify(secret: str, purpose: str, token: str, max_age_seconds: int) -> dict[str, Any]:
    """The payload, or LinkError("invalid"/"expired"). Does not consume the token."""
    try:
        payload = _serializer(secret, purpose).loads(token)
    except SignatureExpired:
        raise LinkError("expired")
    except BadSignature:
        raise LinkError("invalid")
    if not isinstance(payload, dict) or "jti" not in payload:
        raise LinkError("invalid")
    if clock.now().timestamp() - payload.get("iat", 0) > max_age_seconds:
        raise LinkError("expired")
    return payload


async def consume(db: AsyncSession, jti: str) -> None:
    """Mark a token used; LinkError("used") if it was used before."""
    try:
        async with db.begin_nested():
            db.add(UsedToken(jti=jti, used_at=clock.now()))
            await db.flush()
    except IntegrityError:
        raise LinkError("used")
