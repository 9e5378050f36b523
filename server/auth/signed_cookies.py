"""Values in cookies signed with SECRET_KEY (itsdangerous). `purpose` salts the signature, so a
session cookie never passes for a CSRF cookie or the other way round."""
from __future__ import annotations

from itsdangerous import BadSignature, Signer


def _signer(secret: str, purpose: str) -> Signer:
    return Signer(secret, salt=f"trialdesk:{purpose}")


def sign(secret: str, purpose: str, value: str) -> str:
    return _signer(secret, purpose).sign(value).decode()


def unsign(secret: str, purpose: str, signed: str | None) -> str | None:
    """The value, or None when missing or tampered with."""
    if not signed:
        return None
    try:
        return _signer(secret, purpose).unsign(signed).decode()
    except BadSignature:
        return None
