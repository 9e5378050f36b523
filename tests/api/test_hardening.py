"""GraphQL hardening: depth, aliases, tokens, introspection switch, masked internal errors."""
from __future__ import annotations

import httpx
import pytest

from server.enums import Role
from tests.factories import partner_team

GR = "application/graphql-response+json"


async def post(client, query: str, token: str | None = None) -> httpx.Response:
    headers = {"accept": GR}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def test_too_deep_query_is_refused_before_it_runs(client):
    deep = "{ " + "customer(id: \"x\") { trials { customer { " * 5 + "id" + " } } }" * 5 + " }"
    response = await post(client, deep)
    assert response.status_code == 400 and "levels deep" in response.json()["errors"][0]["message"]


async def test_depth_counts_through_fragments(client):
    query = """query { customer(id: "x") { ...A } }
      fragment A on Customer { trials { customer { trials { customer { trials { customer { trials {
        customer { trials { customer { trials { id } } } } } } } } } } } }"""
    assert "levels deep" in (await post(client, query)).json()["errors"][0]["message"]


async def test_a_normal_depth_query_passes(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.READ_ONLY])
    response = await post(client, "{ viewer { email partner { name } } }", team.tokens[Role.READ_ONLY])
    assert response.status_code == 200 and "errors" not in response.json()


async def test_too_many_aliases_are_refused(client):
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    response = await post(client, query)
    assert response.status_code == 400 and "aliases" in response.json()["errors"][0]["message"]


async def test_thirty_aliases_are_fine(client):
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
    assert (await post(client, query)).status_code == 200


async def test_too_many_tokens_are_refused(client, sessionmaker):
    query = "{ " + " ".join("__typename" for _ in range(6000)) + " }"  # 66 KB: signed in (16 KiB signed out)
    token = (await partner_team(sessionmaker)).tokens[Role.READ_ONLY]
    response = await post(client, query, token)
    assert response.status_code == 400 and "tokens" in response.json()["errors"][0]["message"]


async def test_introspection_is_on_outside_production(client):
    response = await post(client, "{ __schema { queryType { name } } }")
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_graphiqls_introspection_query_passes_the_depth_limit(client):
    """Issue 27 item 14: GraphiQL's docs load the schema with graphql's standard introspection query
    (15 levels of `ofType`); introspection reads no data, so its depth is not counted."""
    from graphql import get_introspection_query

    response = await post(client, get_introspection_query(descriptions=True))
    assert response.status_code == 200 and response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    too_deep = "{ __typename " + "customer(id: \"x\") { trials { customer { " * 5 + "id" + " } } }" * 5 + " }"
    assert "levels deep" in (await post(client, too_deep)).json()["errors"][0]["message"]


@pytest.fixture
def production_settings(settings):
    return settings.model_copy(update={"env": "production", "test_clock": False, "introspection": None})


async def _with_app(settings, call):
    from server.app import create_app

    application = create_app(settings)
    try:
        async with application.router.lifespan_context(application):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                         base_url="http://testserver") as c:
                return await call(c, application)
    finally:
        from server import clock

        clock.configure(True)


async def test_introspection_is_off_in_production(production_settings):
    async def call(c, _app):
        schema = await post(c, "{ __schema { queryType { name } } }")
        typed = await post(c, '{ __type(name: "Query") { name } }')
        typename = await post(c, "{ __typename }")
        return schema, typed, typename
    schema, typed, typename = await _with_app(production_settings, call)
    assert schema.status_code == 400 and "Introspection is disabled" in schema.json()["errors"][0]["message"]
    assert typed.status_code == 400
    assert typename.status_code == 200


async def test_introspection_can_be_switched_on_in_production(production_settings):
    switched = production_settings.model_copy(update={"introspection": True})

    async def call(c, _app):
        return await post(c, "{ __schema { queryType { name } } }")
    assert (await _with_app(switched, call)).status_code == 200


async def test_internal_errors_are_masked_in_production(production_settings):
    """A crashing resolver answers 'Internal server error.' with a request ID, never the exception text."""
    import strawberry

    from server import graphql_http as gql
    from server.schema.context import Context

    @strawberry.type
    class Query:
        @strawberry.field
        def boom(self) -> str:
            raise RuntimeError("secret database detail")

    schema = strawberry.Schema(query=Query)._schema

    async def call(_c, application):
        context = Context(sessionmaker=application.state.sessionmaker, settings=production_settings,
                          actor=None, request_id="req-1")
        return await gql.run(schema, gql.DocumentCache(schema), context, "{ boom }", None, None,
                             expose_errors=production_settings.env != "production")
    status, body, _ = await _with_app(production_settings, call)
    error = body["errors"][0]
    assert error["message"] == "Internal server error." and "secret" not in str(body)
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"}
