"""Persisted operations for API clients: the automatic-persisted-queries convention.

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}`. With the query text, the
hash is checked and the text registered; without it, the registered text is looked up by hash,
and an unknown hash answers the standard `PersistedQueryNotFound` error so the client resends
the text. Registered texts live in Redis (shared by every web process; losing them costs one
resend each), and their parsed and validated documents in each process's DocumentCache, so a
registered document is parsed and validated once per process.

The server's own stored documents (`web/operations/`, passed in as `known`) count as registered
in every process from the start: calling one by hash needs no Redis round trip, and one with a
compiled runner runs through it (server.graphql_http).

Storage is no anonymous service (a signed-out caller must not fill Redis): `resolve` stores nothing; `/graphql` calls `register`
once the request is answered, and it stores a text only if it fits MAX_QUERY_CHARS, parses and
validates, and the caller is signed in. At most MAX_STORED texts are kept (the oldest registered
go first): Redis runs `noeviction`, and a full Redis would stop the job queue.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

import structlog

log = structlog.get_logger("persisted")

KEY = "trialdesk:apq:{}"
INDEX = "trialdesk:apq-index"  # sorted set: digest by registration time, to drop the oldest
TTL_SECONDS = 30 * 24 * 3600
MAX_STORED = 1000
NOT_FOUND = {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}


class PersistedQueryError(Exception):
    def __init__(self, error: dict[str, Any], not_found: bool = False) -> None:
        self.error = error
        self.not_found = not_found


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def requested_hash(params: dict[str, Any]) -> str | None:
    extensions = params.get("extensions")
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version", 1) != 1:
        raise PersistedQueryError({"message": "Unsupported persistedQuery version."})
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise PersistedQueryError({"message": "persistedQuery.sha256Hash must be a SHA-256 hex digest."})
    return digest.lower()


async def resolve(params: dict[str, Any], redis, known: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The request's params with `query` filled in from the registry (or registered from it).
    `known`: texts by SHA-256 that are registered without Redis (the stored documents)."""
    digest = requested_hash(params)
    if digest is None:
        return params
    query = params.get("query")
    if isinstance(query, str) and query:
        if sha256(query) != digest:
            raise PersistedQueryError({"message": "provided sha does not match query"})
        return params
    if known and digest in known:
        return {**params, "query": known[digest]}
    try:
        stored = await redis.get(KEY.format(digest))
    except Exception as error:  # noqa: BLE001 - a lost registry is a miss, the client resends
        log.warning("persisted_query_lookup_failed", error=repr(error))
        stored = None
    if stored is None:
        raise PersistedQueryError(NOT_FOUND, not_found=True)
    return {**params, "query": stored.decode() if isinstance(stored, bytes) else stored}


async def register(params: dict[str, Any], redis, known: Mapping[str, str] | None, valid: bool, signed_in: bool,
                   max_chars: int) -> None:
    """Keep the text a request registered (its hash checked by `resolve`), when it is worth keeping:
    a valid document of at most `max_chars`, sent by a signed-in caller, and not a stored document."""
    digest, query = requested_hash(params), params.get("query")
    if digest is None or not isinstance(query, str) or not valid or not signed_in or len(query) > max_chars:
        return
    if known and digest in known:
        return
    try:
        await redis.set(KEY.format(digest), query, ex=TTL_SECONDS)
        await redis.zadd(INDEX, {digest: time.time()})
        excess = await redis.zcard(INDEX) - MAX_STORED
        if excess > 0:
            oldest = await redis.zpopmin(INDEX, excess)
            await redis.delete(*[KEY.format(d.decode() if isinstance(d, bytes) else d) for d, _ in oldest])
    except Exception as error:  # noqa: BLE001 - Redis down: the query still ran, it just isn't kept
        log.warning("persisted_query_not_stored", error=repr(error))
