"""Webhook signing secrets: made, kept encrypted at rest, and used to sign.

Signing follows Standard Webhooks (https://www.standardwebhooks.com): the secret is
`whsec_` + base64 of 24 random bytes; `webhook-signature` is `v1,` + base64(HMAC-SHA256(key,
f"{webhook_id}.{timestamp}.{body}")) where key is the secret's base64 part decoded.

At rest (decision, the spec is silent): the worker must sign, so the secret is needed in clear and
cannot be stored as a hash like API tokens. It is stored encrypted with keys derived from
SECRET_KEY (HMAC-SHA256 with a fixed label): HMAC-SHA256 as a pseudo-random function in counter
mode with a random 16-byte nonce, then encrypt-then-MAC (HMAC-SHA256, 16 bytes). Only the standard
library: no new dependency (`cryptography` is not one). A database dump alone does not reveal the
secrets; changing SECRET_KEY makes them unreadable: deliveries then fail with "rotate the secret",
and rotating (`rotateWebhookSecret`) makes a new one. The secret is shown once, when made.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random

PREFIX = "whsec_"
VERSION = "v1."


class SecretUnreadable(Exception):
    """The stored secret does not decrypt with this SECRET_KEY (changed key, or a damaged row)."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(random.token_bytes(24)).decode()


def _key(secret_key: str, label: bytes) -> bytes:
    return hmac.new(secret_key.encode(), b"trialdesk webhook secrets: " + label, hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range((length + 31) // 32))
    return b"".join(blocks)[:length]


def encrypt(secret_key: str, secret: str) -> str:
    plain = secret.encode()
    nonce = random.token_bytes(16)
    cipher = bytes(a ^ b for a, b in zip(plain, _keystream(_key(secret_key, b"encrypt"), nonce, len(plain))))
    tag = hmac.new(_key(secret_key, b"authenticate"), nonce + cipher, hashlib.sha256).digest()[:16]
    return VERSION + base64.b64encode(nonce + cipher + tag).decode()


def decrypt(secret_key: str, stored: str) -> str:
    try:
        raw = base64.b64decode(stored.removeprefix(VERSION), validate=True)
    except ValueError as error:
        raise SecretUnreadable("the stored webhook secret is damaged") from error
    nonce, cipher, tag = raw[:16], raw[16:-16], raw[-16:]
    expected = hmac.new(_key(secret_key, b"authenticate"), nonce + cipher, hashlib.sha256).digest()[:16]
    if not stored.startswith(VERSION) or len(raw) < 33 or not hmac.compare_digest(tag, expected):
        raise SecretUnreadable("the webhook secret does not decrypt with this SECRET_KEY: rotate the secret")
    return bytes(a ^ b for a, b in zip(cipher, _keystream(_key(secret_key, b"encrypt"), nonce, len(cipher)))).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header's value."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def hint(secret: str) -> str:
    """What the portal may show of a secret after creation: its last four characters."""
    return f"{PREFIX}…{secret[-4:]}"
