"""API bearer tokens: shown once, stored as a SHA-256 hash (they are long random secrets)."""
from __future__ import annotations

import hashlib
import secrets

PREFIX = "td_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
