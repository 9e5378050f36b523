"""CSRF on GET (issue 21): a session-cookie `GET /graphql` that runs an operation needs the CSRF
header like a POST. Before, a cross-site link or <img> ran queries with effects as the signed-in
user: `existingOrganization` counts and audits a look-up (R-EX-01)."""
from __future__ import annotations

from server.enums import Role
from tests import factories
from tests.security.test_org_lookup_limits import lookups

LOOKUP = '{ existingOrganization(adminEmail: "boss@victim.example") { name } }'


async def test_a_cookie_get_without_the_csrf_header_runs_nothing(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    csrf = await factories.login(client, team.emails[Role.SALES_ADMIN], team.password)
    refused = await client.get("/graphql", params={"query": LOOKUP})
    assert refused.status_code == 403 and refused.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    assert await lookups(sessionmaker) == 0
    allowed = await client.get("/graphql", params={"query": LOOKUP}, headers={"x-csrf-token": csrf})
    assert allowed.status_code == 200 and allowed.json() == {"data": {"existingOrganization": None}}
    assert await lookups(sessionmaker) == 1


async def test_a_get_without_a_cookie_or_with_a_token_needs_no_csrf_header(client, sessionmaker):
    assert (await client.get("/graphql", params={"query": "{ __typename }"})).json() == \
        {"data": {"__typename": "Query"}}
    team = await factories.partner_team(sessionmaker)
    answer = await client.get("/graphql", params={"query": "{ viewer { email } }"},
                              headers={"authorization": f"Bearer {team.tokens[Role.READ_ONLY]}"})
    assert answer.json()["data"]["viewer"]["email"] == team.emails[Role.READ_ONLY]
