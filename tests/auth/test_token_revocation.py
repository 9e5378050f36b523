"""Issue 16, R-ROLE-02 with R-ROLE-05: revoking API tokens over GraphQL, for everyone who holds one.

A partner full admin lists and revokes their partner's tokens (tests/orgs/test_access_users.py); a
trials-team user (a platform user, no partner) lists and revokes their own, over a token or a
signed-in session; nobody reaches another's (NOT_FOUND, as a missing token); a revoked token
answers UNAUTHENTICATED on its next request. The CLI's `trialdesk token list/revoke` is in
tests/cli/test_cli.py."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from server.auth.tokens import hash_token, new_token
from server.db.models import ApiToken, AuditEvent
from server.domain.orgs import directory
from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import PARTNER_ROLES, login, partner_team
from tests.helpers import gql

TOKENS = "{ apiTokens { id name userEmail roles revokedAt } }"
REVOKE = """mutation($id: ID!) { revokeApiToken(tokenId: $id) {
  apiToken { id name revokedAt } userErrors { code field message } } }"""
VIEWER = "{ viewer { email roles } }"
PASSWORD = "correct horse battery staple"


async def trials_team_user(sessionmaker, email: str, names: tuple[str, ...] = ("laptop", "script")
                           ) -> dict[str, tuple[str, str]]:
    """A trials-team user with a token per name, made as `trialdesk token create` makes them:
    {name: (global ID, secret)}."""
    made = {}
    async with sessionmaker() as db, db.begin():
        user = await directory.create_user(db, email, [Role.TRIALS_TEAM], partner_id=None, password=PASSWORD)
        for name in names:
            secret = new_token()
            row = await directory.create_api_token(db, user, hash_token(secret), [Role.TRIALS_TEAM], name)
            made[name] = (to_global_id("ApiToken", row.id), secret)
    return made


def unauthenticated(body: dict) -> bool:
    return body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def revoked_at(sessionmaker, global_id: str):
    from server.schema.node import decode_id

    async with sessionmaker() as db:
        return await db.scalar(select(ApiToken.revoked_at).where(ApiToken.id == decode_id(global_id, "ApiToken")))


async def test_r_role_02_a_trials_team_user_lists_only_their_own_tokens(client, sessionmaker):
    mine = await trials_team_user(sessionmaker, "tt.one@platform.example")
    await trials_team_user(sessionmaker, "tt.two@platform.example")
    await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    listed = (await gql(client, TOKENS, token=mine["laptop"][1]))["data"]["apiTokens"]
    assert [(t["id"], t["name"], t["userEmail"], t["roles"]) for t in listed] == [
        (mine["laptop"][0], "laptop", "tt.one@platform.example", ["TRIALS_TEAM"]),
        (mine["script"][0], "script", "tt.one@platform.example", ["TRIALS_TEAM"])]


async def test_r_role_02_a_trials_team_user_revokes_their_own_token_and_it_stops_at_once(client, sessionmaker):
    mine = await trials_team_user(sessionmaker, "tt.one@platform.example")
    (script_id, script), (laptop_id, laptop) = mine["script"], mine["laptop"]
    assert (await gql(client, VIEWER, token=script))["data"]["viewer"]["roles"] == ["TRIALS_TEAM"]

    body = await gql(client, REVOKE, {"id": script_id}, token=laptop)
    payload = body["data"]["revokeApiToken"]
    assert payload["userErrors"] == [] and payload["apiToken"]["id"] == script_id and payload["apiToken"]["revokedAt"]
    assert unauthenticated(await gql(client, VIEWER, token=script))
    assert (await gql(client, VIEWER, token=laptop))["data"]["viewer"]["email"] == "tt.one@platform.example"

    again = await gql(client, REVOKE, {"id": script_id}, token=laptop)
    assert again["data"]["revokeApiToken"]["userErrors"][0]["code"] == "INVALID_STATE"

    # The token in use may revoke itself: that answer is its last.
    itself = await gql(client, REVOKE, {"id": laptop_id}, token=laptop)
    assert itself["data"]["revokeApiToken"]["userErrors"] == []
    assert unauthenticated(await gql(client, VIEWER, token=laptop))
    async with sessionmaker() as db:
        actors = list(await db.scalars(select(AuditEvent.actor).where(AuditEvent.action == "token.revoked")))
    assert actors == ["trials_team:tt.one@platform.example"] * 2


async def test_r_role_02_a_signed_in_trials_team_user_revokes_their_token(app, client, sessionmaker):
    mine = await trials_team_user(sessionmaker, "tt.one@platform.example", names=("script",))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
        csrf = await login(browser, "tt.one@platform.example", PASSWORD)
        listed = (await gql(browser, TOKENS, headers={"x-csrf-token": csrf}))["data"]["apiTokens"]
        assert [t["id"] for t in listed] == [mine["script"][0]]
        body = await gql(browser, REVOKE, {"id": mine["script"][0]}, headers={"x-csrf-token": csrf})
    assert body["data"]["revokeApiToken"]["userErrors"] == []
    assert unauthenticated(await gql(client, VIEWER, token=mine["script"][1]))


async def test_r_role_02_nobody_revokes_a_token_out_of_their_reach(client, sessionmaker):
    """A trials-team user reaches neither another trials-team user's token nor a partner's; a
    partner full admin does not reach a trials-team user's. Each answers NOT_FOUND and the token
    keeps working."""
    one = await trials_team_user(sessionmaker, "tt.one@platform.example", names=("one",))
    two = await trials_team_user(sessionmaker, "tt.two@platform.example", names=("two",))
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    async with sessionmaker() as db:
        partner_token_id = to_global_id("ApiToken", await db.scalar(
            select(ApiToken.id).where(ApiToken.partner_id == team.partner_id)))
    admin = team.tokens[Role.PARTNER_FULL_ADMIN]
    for caller, target in [(one["one"][1], two["two"][0]), (one["one"][1], partner_token_id),
                           (admin, one["one"][0])]:
        body = await gql(client, REVOKE, {"id": target}, token=caller)
        assert [e["code"] for e in body["data"]["revokeApiToken"]["userErrors"]] == ["NOT_FOUND"], body
        assert body["data"]["revokeApiToken"]["apiToken"] is None
        assert await revoked_at(sessionmaker, target) is None
    assert (await gql(client, VIEWER, token=two["two"][1]))["data"]["viewer"]
    assert (await gql(client, VIEWER, token=admin))["data"]["viewer"]
    listed = (await gql(client, TOKENS, token=admin))["data"]["apiTokens"]
    assert [t["id"] for t in listed] == [partner_token_id]


@pytest.mark.parametrize("role", [r for r in PARTNER_ROLES if r is not Role.PARTNER_FULL_ADMIN])
async def test_r_role_02_other_partner_roles_may_not_revoke_tokens_not_even_their_own(client, sessionmaker, role):
    team = await partner_team(sessionmaker, roles=[role])
    async with sessionmaker() as db:
        own = to_global_id("ApiToken", await db.scalar(select(ApiToken.id).where(ApiToken.partner_id == team.partner_id)))
    body = await gql(client, REVOKE, {"id": own}, token=team.tokens[role])
    assert [e["code"] for e in body["data"]["revokeApiToken"]["userErrors"]] == ["FORBIDDEN"]
    assert await revoked_at(sessionmaker, own) is None
    listed = await gql(client, TOKENS, token=team.tokens[role])
    assert listed["data"] is None and listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("token_id", ["", "bogus", to_global_id("PartnerUser", 1), to_global_id("ApiToken", 0),
                                      to_global_id("ApiToken", -1), to_global_id("ApiToken", 2**63),
                                      to_global_id("ApiToken", 10**30)])
async def test_revoking_a_malformed_or_out_of_range_token_id_answers_not_found(client, sessionmaker, token_id):
    mine = await trials_team_user(sessionmaker, "tt.one@platform.example", names=("one",))
    body = await gql(client, REVOKE, {"id": token_id}, token=mine["one"][1])
    assert [e["code"] for e in body["data"]["revokeApiToken"]["userErrors"]] == ["NOT_FOUND"], body
