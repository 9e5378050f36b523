"""No anonymous storage (issue 21): a persisted-query registration stores its text only after the
request is answered, and only a signed-in caller's valid document of at most MAX_QUERY_CHARS; at most
MAX_STORED texts are kept. Before: the text was stored before any check, so an anonymous 20 MB POST
left a 20 MB Redis key for 30 days (and Redis runs `noeviction`)."""
from __future__ import annotations

import hashlib
import uuid

from server import persisted
from server.enums import Role
from tests import factories

GR = "application/graphql-response+json"


def registration(query: str) -> dict:
    return {"query": query, "extensions": {"persistedQuery": {"version": 1,
                                                              "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}}


async def stored(app, query: str) -> bool:
    return await app.state.redis.exists(persisted.KEY.format(hashlib.sha256(query.encode()).hexdigest())) == 1


def unique(query: str) -> str:
    return f"{query} # {uuid.uuid4().hex}"


async def post(client, body: dict, token: str | None = None):
    headers = {"accept": GR, **({"authorization": f"Bearer {token}"} if token else {})}
    return await client.post("/graphql", json=body, headers=headers)


async def test_an_anonymous_registration_is_answered_but_not_stored(client, app):
    query = unique("{ __typename }")
    response = await post(client, registration(query))
    assert response.json() == {"data": {"__typename": "Query"}}
    assert not await stored(app, query)


async def test_an_invalid_or_oversized_text_is_not_stored(client, app, sessionmaker):
    token = (await factories.partner_team(sessionmaker)).tokens[Role.SALES_ADMIN]
    invalid = unique("{ nope }")
    assert (await post(client, registration(invalid), token)).status_code == 400
    assert not await stored(app, invalid)
    oversized = "{ __typename }" + " " * 200_000
    assert (await post(client, registration(oversized), token)).status_code == 400
    assert not await stored(app, oversized)


async def test_a_signed_in_registration_is_stored_and_the_store_is_capped(client, app, sessionmaker, monkeypatch):
    token = (await factories.partner_team(sessionmaker)).tokens[Role.SALES_ADMIN]
    monkeypatch.setattr(persisted, "MAX_STORED", 3)
    await app.state.redis.delete(persisted.INDEX)
    queries = [unique("query Me { viewer { email } }") for _ in range(5)]
    for query in queries:
        assert "errors" not in (await post(client, registration(query), token)).json()
    assert [await stored(app, q) for q in queries] == [False, False, True, True, True]
    assert await app.state.redis.zcard(persisted.INDEX) == 3
