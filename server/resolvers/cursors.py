"""Opaque keyset cursors of the paged lists (customers, the audit log): URL-safe base64 of the JSON
`[kind, key, id]` — the list (or its order) the cursor belongs to, the row's sort key and its id.
Each list checks the key's type itself (`read` only checks the envelope) and answers a cursor that is
not its own with `not_ours`."""
from __future__ import annotations

import base64
from typing import Any

import orjson
from graphql import GraphQLError


def write(kind: str, key: Any, pk: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([kind, key, pk])).decode()


def read(cursor: str, kind: str) -> tuple[Any, int] | None:
    """(key, id) of a cursor of `kind`; None when it is malformed, of another kind or its id is not a
    positive 64-bit key."""
    try:
        found, key, pk = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, UnicodeDecodeError, orjson.JSONDecodeError):
        return None
    if found != kind or not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
        return None
    return key, pk


def not_ours(what: str) -> GraphQLError:
    return GraphQLError(f"`after` is not a cursor from this {what}.", extensions={"code": "INVALID_INPUT"})
