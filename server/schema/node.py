"""Relay global IDs (server.domain.core.global_ids) as strawberry IDs, and the Node interface."""
from __future__ import annotations

import strawberry

from server.domain.core.global_ids import global_id, parse_global_id


@strawberry.interface
class Node:
    id: strawberry.ID


def to_global_id(type_name: str, pk: int | str) -> strawberry.ID:
    return strawberry.ID(global_id(type_name, pk))


#: None when malformed, of another type or with a key no 64-bit column holds (answered like NOT_FOUND).
from_global_id = parse_global_id


def decode_id(value: str, expected: str) -> int | None:
    decoded = parse_global_id(value, expected)
    return decoded[1] if decoded else None
