"""Password hashing (argon2id via argon2-cffi) and the password policy.

`verify()` never raises: a wrong password, a malformed hash and a user without a password all
answer False. `burn()` spends the same time as a real check, so an unknown email answers as slowly
as a wrong password (no user enumeration by timing).
"""
from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Made on first use, not at import: every CLI command and worker would pay a hash's time to start."""
    return hasher.hash("trialdesk dummy password for timing")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        burn(password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def burn(password: str) -> None:
    """Spend one verification's time on nothing."""
    try:
        hasher.verify(_dummy_hash(), password)
    except VerificationError:
        pass


def policy_error(password: str) -> str | None:
    """Why a new password is refused, or None. Length is what matters (NIST 800-63B)."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    return None
