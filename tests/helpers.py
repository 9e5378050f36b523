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


async def both_paths(state: Any, planner: Any, documents: Any, actor: Any, text: str, variables: dict | None,
                     name: str | None) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """(the reference path's body, the planned path's body, the planner's Answer or None) for one
    query as `actor`: the planned path is what `/graphql` and the pages do — the planner answers the
    root fields it can, the reference path the rest (server.planner.run.Answer), merged."""
    from graphql import get_operation_ast

    from server import graphql_http
    from server.schema.context import Context

    schema = documents.schema

    async def reference(planned: Any = None) -> dict[str, Any]:
        context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor)
        try:
            _, body, _ = await graphql_http.run(schema, documents, context, text, variables, name,
                                                expose_errors=True, planned=planned)
        finally:
            await context.close()
        return body

    document, _ = documents.get(text)
    context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor)
    try:
        answer = await planner.run(context, text, document, get_operation_ast(document, name), variables, name)
    finally:
        await context.close()
    body = await reference()
    if answer is None:
        return body, body, None
    return body, (graphql_http.planned_body(answer, True) if answer.complete else await reference(answer)), answer
