"""GraphQL-over-HTTP (DESIGN contract; issue 5 item 7) and the bearer-token way in."""
from __future__ import annotations

from server.enums import Role
from tests.factories import partner_team

GR = "application/graphql-response+json"


async def test_viewer_over_bearer_token(client, sessionmaker):
    team = await partner_team(sessionmaker)
    response = await client.post("/graphql", json={"query": "{ viewer { email roles partner { name tier } } }"},
                                 headers={"authorization": f"Bearer {team.tokens[Role.SALES_ADMIN]}", "accept": GR})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GR)
    viewer = response.json()["data"]["viewer"]
    assert viewer["roles"] == ["SALES_ADMIN"] and viewer["partner"]["tier"] == "TIER1"


async def test_anonymous_may_ask_typename_but_not_viewer(client):
    assert (await client.post("/graphql", json={"query": "{ __typename }"})).json() == {"data": {"__typename": "Query"}}
    body = (await client.post("/graphql", json={"query": "{ viewer { email } }"})).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_parse_error_is_400_with_graphql_response_json(client):
    response = await client.post("/graphql", json={"query": "{ viewer { "}, headers={"accept": GR})
    assert response.status_code == 400 and response.headers["content-type"].startswith(GR)
    assert response.json()["errors"]


async def test_validation_error_is_400_with_graphql_response_json(client):
    response = await client.post("/graphql", json={"query": "{ nope }"}, headers={"accept": GR})
    assert response.status_code == 400


async def test_variable_error_is_400_with_graphql_response_json(client):
    query = "mutation($d: Int!) { advanceClock(days: $d) }"
    response = await client.post("/graphql", json={"query": query, "variables": {"d": "x"}}, headers={"accept": GR})
    assert response.status_code == 400


async def test_legacy_application_json_gets_200_with_errors(client):
    response = await client.post("/graphql", json={"query": "{ nope }"}, headers={"accept": "application/json"})
    assert response.status_code == 200 and response.json()["errors"]
    assert response.headers["content-type"].startswith("application/json")


async def test_query_over_get(client):
    response = await client.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": GR})
    assert response.status_code == 200 and response.json()["data"] == {"__typename": "Query"}


async def test_never_a_mutation_over_get(client):
    response = await client.get("/graphql", params={"query": "mutation { advanceClock(days: 1) }"},
                                headers={"accept": GR})
    assert response.status_code == 405 and response.headers["allow"] == "POST"


async def test_body_that_is_not_json_is_400(client):
    response = await client.post("/graphql", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400


async def test_unsupported_media_type_is_415(client):
    response = await client.post("/graphql", content=b"query", headers={"content-type": "text/plain"})
    assert response.status_code == 415


async def test_unacceptable_accept_header_is_406(client):
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"accept": "text/csv"})
    assert response.status_code == 406
