"""Relay global IDs ("Type:pk", base64) and the Node interface."""
from __future__ import annotations

import base64
import binascii

import strawberry


@strawberry.interface
class Node:
    id: strawberry.ID


def to_global_id(type_name: str, pk: int | str) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("="))


#: Primary keys are 64-bit integers: a key outside that range names no row.
PK_RANGE = range(-2**63, 2**63)


def from_global_id(global_id: str, expected: str | None = None) -> tuple[str, int] | None:
    """Decode a global ID; None when malformed, of another type or with a key no 64-bit column holds
    (answered like NOT_FOUND; such a key would make the driver fail: INTERNAL_SERVER_ERROR)."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        value = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if value not in PK_RANGE:
        return None
    if expected is not None and type_name != expected:
        return None
    return type_name, value


def decode_id(global_id: str, expected: str) -> int | None:
    decoded = from_global_id(global_id, expected)
    return decoded[1] if decoded else None
