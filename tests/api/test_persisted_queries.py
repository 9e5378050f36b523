"""Issue 10 item 2: automatic persisted queries (register by SHA-256, then call by hash)."""
from __future__ import annotations

import hashlib

from server.enums import Role
from tests.factories import partner_team

QUERY = "query Me { viewer { email roles } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def _ext(digest: str = HASH) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_unknown_hash_answers_persisted_query_not_found(client):
    response = await client.post("/graphql", json={"extensions": _ext("0" * 64)})
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_register_then_call_by_hash(client, sessionmaker, app):
    team = await partner_team(sessionmaker)
    auth = {"authorization": f"Bearer {team.tokens[Role.READ_ONLY]}"}
    await app.state.redis.delete(f"trialdesk:apq:{HASH}")
    first = await client.post("/graphql", json={"extensions": _ext()}, headers=auth)
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    registered = await client.post("/graphql", json={"query": QUERY, "extensions": _ext()}, headers=auth)
    assert registered.json()["data"]["viewer"]["roles"] == ["READ_ONLY"]
    by_hash = await client.post("/graphql", json={"extensions": _ext()}, headers=auth)
    assert by_hash.json() == registered.json()
    over_get = await client.get("/graphql", params={"extensions": '{"persistedQuery":{"version":1,"sha256Hash":"%s"}}'
                                                    % HASH}, headers=auth)
    assert over_get.json() == registered.json()


async def test_a_hash_that_does_not_match_the_query_is_refused(client):
    response = await client.post("/graphql", json={"query": QUERY, "extensions": _ext("a" * 64)},
                                 headers={"accept": "application/graphql-response+json"})
    assert response.status_code == 400
    assert "does not match" in response.json()["errors"][0]["message"]


async def test_a_malformed_persisted_query_extension_is_a_clear_error(client):
    response = await client.post("/graphql", json={"extensions": {"persistedQuery": {"version": 2}}})
    assert "version" in response.json()["errors"][0]["message"]
