"""Small helpers for tests: GraphQL over the ASGI app, rows arranged through the domain."""
from __future__ import annotations

from typing import Any

import httpx


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *,
              token: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST /graphql and return the JSON body (asserting the transport-level 200)."""
    h = {"content-type": "application/json", "accept": "application/graphql-response+json"}
    if token:
        h["authorization"] = f"Bearer {token}"
    h.update(headers or {})
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=h)
    assert response.status_code == 200, response.text
    return response.json()
