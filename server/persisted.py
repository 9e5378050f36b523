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
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import structlog

log = structlog.get_logger("persisted")

KEY = "trialdesk:apq:{}"
TTL_SECONDS = 30 * 24 * 3600
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
        if known and digest in known:
            return params
        try:
            await redis.set(KEY.format(digest), query, ex=TTL_SECONDS)
        except Exception as error:  # noqa: BLE001 - Redis down: the query still runs, it just isn't kept
            log.warning("persisted_query_not_stored", error=repr(error))
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
