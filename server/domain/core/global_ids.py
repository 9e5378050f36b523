"""Relay global IDs: "Type:pk" in URL-safe base64 without padding. The one codec of the product: the
GraphQL schema (server.schema.node), webhook payloads and links in emails write and read them here."""
from __future__ import annotations

import base64
import binascii

#: Primary keys are 64-bit integers: a key outside that range names no row.
PK_RANGE = range(-2**63, 2**63)


def global_id(type_name: str, pk: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def parse_global_id(value: str, expected: str | None = None) -> tuple[str, int] | None:
    """(type, pk) of a global ID; None when malformed, of another type than `expected` or with a key
    no 64-bit column holds (answered like NOT_FOUND; such a key would make the driver fail)."""
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        number = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if number not in PK_RANGE or (expected is not None and type_name != expected):
        return None
    return type_name, number
