"""R-ROLE-02 "manage partner users and roles, API tokens": partner full admin only, own partner only."""
from __future__ import annotations

import re

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from server.db.models import ApiToken, AuditEvent, OutboxEmail, User
from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import PARTNER_ROLES, login, partner_team, trials_team_token
from tests.helpers import gql

USERS = "{ partnerUsers { id email roles active } }"
INVITE = """mutation($email: String!, $roles: [Role!]!) {
  inviteUser(email: $email, roles: $roles) { user { id email roles active } userErrors { code field message } } }"""
ROLES = """mutation($id: ID!, $roles: [Role!]!) {
  updateUserRoles(userId: $id, roles: $roles) { user { roles } userErrors { code field message } } }"""
DEACTIVATE = """mutation($id: ID!) { deactivateUser(userId: $id) { user { active } userErrors { code field } } }"""
CREATE_TOKEN = """mutation($name: String!, $roles: [Role!]!, $user: ID) {
  createApiToken(name: $name, roles: $roles, userId: $user) {
    token apiToken { id name roles userEmail lastUsedAt } userErrors { code field message } } }"""
REVOKE_TOKEN = """mutation($id: ID!) { revokeApiToken(tokenId: $id) { apiToken { revokedAt } userErrors { code } } }"""
PASSWORD = """mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n) { ok userErrors { code field message } } }"""
VIEWER = "{ viewer { email } }"


@pytest_asyncio.fixture
async def team(sessionmaker):
    return await partner_team(sessionmaker)


async def count(sessionmaker, model) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(model))


def uid(team, role: Role) -> str:
    return to_global_id("PartnerUser", team.user_ids[role])


async def test_r_role_02_partner_full_admin_lists_own_partner_users(client, team, sessionmaker):
    other = await partner_team(sessionmaker)
    body = await gql(client, USERS, token=team.tokens[Role.PARTNER_FULL_ADMIN])
    emails = {u["email"] for u in body["data"]["partnerUsers"]}
    assert emails == set(team.emails.values()) and not emails & set(other.emails.values())


@pytest.mark.parametrize("role", [r for r in PARTNER_ROLES if r is not Role.PARTNER_FULL_ADMIN])
async def test_r_role_02_other_roles_may_not_list_users(client, team, sessionmaker, role):
    body = await gql(client, USERS, token=team.tokens[role])
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with sessionmaker() as db:
        assert await db.scalar(select(AuditEvent.action).where(AuditEvent.action == "permission.denied"))


async def test_r_role_02_invite_creates_user_and_emails_set_password_link(client, team, sessionmaker):
    body = await gql(client, INVITE, {"email": "New.Person@partner.example", "roles": ["SALES_ADMIN"]},
                     token=team.tokens[Role.PARTNER_FULL_ADMIN])
    result = body["data"]["inviteUser"]
    assert result["userErrors"] == [] and result["user"]["email"] == "new.person@partner.example"
    assert result["user"]["roles"] == ["SALES_ADMIN"]
    async with sessionmaker() as db:
        mail = await db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "invite"))
    assert mail.recipient == "new.person@partner.example" and "/auth/set-password/" in mail.body_text


async def test_invited_user_sets_password_by_link_then_signs_in(client, team, sessionmaker):
    await gql(client, INVITE, {"email": "new@partner.example", "roles": ["READ_ONLY"]},
              token=team.tokens[Role.PARTNER_FULL_ADMIN])
    async with sessionmaker() as db:
        text = await db.scalar(select(OutboxEmail.body_text).where(OutboxEmail.kind == "invite"))
    link = re.search(r"http://testserver(/auth/set-password/\S+)", text).group(1)
    page = await client.get(link)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    short = await client.post(link, data={"password": "short", "csrf_token": csrf})
    assert short.status_code == 400 and "at least 12" in short.text
    done = await client.post(link, data={"password": "a long enough password", "csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    again = await client.post(link, data={"password": "another long password", "csrf_token": csrf})
    assert again.status_code == 400 and "used already" in again.text
    await login(client, "new@partner.example", "a long enough password")


@pytest.mark.parametrize("role", [r for r in PARTNER_ROLES if r is not Role.PARTNER_FULL_ADMIN])
async def test_r_role_02_only_partner_full_admin_may_invite(client, team, sessionmaker, role):
    users_before = await count(sessionmaker, User)
    body = await gql(client, INVITE, {"email": "x@partner.example", "roles": ["READ_ONLY"]}, token=team.tokens[role])
    assert body["data"]["inviteUser"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert await count(sessionmaker, User) == users_before


async def test_r_role_02_trials_team_may_not_manage_partner_users(client, sessionmaker, team):
    token = await trials_team_token(sessionmaker)
    body = await gql(client, INVITE, {"email": "x@partner.example", "roles": ["READ_ONLY"]}, token=token)
    assert body["data"]["inviteUser"]["userErrors"][0]["code"] == "FORBIDDEN"


async def test_invite_refuses_bad_input_and_changes_nothing(client, team, sessionmaker):
    before = await count(sessionmaker, User)
    admin = team.tokens[Role.PARTNER_FULL_ADMIN]
    bad_email = await gql(client, INVITE, {"email": "not an email", "roles": ["READ_ONLY"]}, token=admin)
    assert bad_email["data"]["inviteUser"]["userErrors"][0]["code"] == "INVALID_EMAIL"
    no_roles = await gql(client, INVITE, {"email": "a@partner.example", "roles": []}, token=admin)
    assert no_roles["data"]["inviteUser"]["userErrors"][0]["field"] == ["roles"]
    team_role = await gql(client, INVITE, {"email": "a@partner.example", "roles": ["TRIALS_TEAM"]}, token=admin)
    assert team_role["data"]["inviteUser"]["userErrors"][0]["code"] == "INVALID_INPUT"
    assert await count(sessionmaker, User) == before


async def test_r_role_02_full_admin_changes_roles(client, team):
    body = await gql(client, ROLES, {"id": uid(team, Role.READ_ONLY), "roles": ["SALES_ADMIN", "READ_ONLY"]},
                     token=team.tokens[Role.PARTNER_FULL_ADMIN])
    assert body["data"]["updateUserRoles"] == {"user": {"roles": ["READ_ONLY", "SALES_ADMIN"]}, "userErrors": []}


async def test_the_last_partner_full_admin_keeps_the_role(client, team):
    body = await gql(client, ROLES, {"id": uid(team, Role.PARTNER_FULL_ADMIN), "roles": ["READ_ONLY"]},
                     token=team.tokens[Role.PARTNER_FULL_ADMIN])
    assert body["data"]["updateUserRoles"]["userErrors"][0]["field"] == ["roles"]


async def test_r_org_02_another_partners_user_answers_not_found(client, team, sessionmaker):
    other = await partner_team(sessionmaker)
    admin = team.tokens[Role.PARTNER_FULL_ADMIN]
    for query, variables in [(ROLES, {"id": uid(other, Role.READ_ONLY), "roles": ["READ_ONLY"]}),
                             (DEACTIVATE, {"id": uid(other, Role.READ_ONLY)})]:
        body = await gql(client, query, variables, token=admin)
        errors = next(iter(body["data"].values()))["userErrors"]
        assert errors[0]["code"] == "NOT_FOUND"
    missing = await gql(client, DEACTIVATE, {"id": to_global_id("PartnerUser", 999999)}, token=admin)
    assert missing["data"]["deactivateUser"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_deactivate_ends_sessions_and_tokens(client, team, app):
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as victim:
        csrf = await login(victim, team.emails[Role.SALES_ADMIN])
        body = await gql(client, DEACTIVATE, {"id": uid(team, Role.SALES_ADMIN)},
                         token=team.tokens[Role.PARTNER_FULL_ADMIN])
        assert body["data"]["deactivateUser"] == {"user": {"active": False}, "userErrors": []}
        session = await gql(victim, VIEWER, headers={"x-csrf-token": csrf})
        assert session["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bearer = await gql(client, VIEWER, token=team.tokens[Role.SALES_ADMIN])
    assert bearer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    token = await client.get("/login")
    relogin = await client.post("/login", data={"email": team.emails[Role.SALES_ADMIN], "password": team.password,
                                                "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                                        token.text).group(1)})
    assert relogin.status_code == 400


async def test_r_role_02_api_token_shown_once_scoped_to_user_roles(client, team, sessionmaker):
    admin = team.tokens[Role.PARTNER_FULL_ADMIN]
    body = await gql(client, CREATE_TOKEN, {"name": "CRM", "roles": ["SALES_ADMIN"], "user": uid(team, Role.SALES_ADMIN)},
                     token=admin)
    result = body["data"]["createApiToken"]
    assert result["userErrors"] == [] and result["token"].startswith("td_")
    assert result["apiToken"]["userEmail"] == team.emails[Role.SALES_ADMIN]
    async with sessionmaker() as db:
        hashes = list(await db.scalars(select(ApiToken.token_hash)))
    assert result["token"] not in hashes
    viewer = await gql(client, VIEWER, token=result["token"])
    assert viewer["data"]["viewer"]["email"]
    listed = await gql(client, "{ apiTokens { id lastUsedAt } }", token=admin)
    assert next(t for t in listed["data"]["apiTokens"] if t["id"] == result["apiToken"]["id"])["lastUsedAt"]


async def test_api_token_roles_must_be_held_by_its_user(client, team, sessionmaker):
    before = await count(sessionmaker, ApiToken)
    body = await gql(client, CREATE_TOKEN, {"name": "x", "roles": ["PARTNER_FULL_ADMIN"],
                                            "user": uid(team, Role.SALES_ADMIN)}, token=team.tokens[Role.PARTNER_FULL_ADMIN])
    assert body["data"]["createApiToken"]["userErrors"] == [
        {"code": "INVALID_INPUT", "field": ["roles"], "message": "A token may only hold roles its user holds."}]
    assert body["data"]["createApiToken"]["token"] is None
    assert await count(sessionmaker, ApiToken) == before


@pytest.mark.parametrize("role", [r for r in PARTNER_ROLES if r is not Role.PARTNER_FULL_ADMIN])
async def test_r_role_02_only_partner_full_admin_creates_tokens(client, team, sessionmaker, role):
    before = await count(sessionmaker, ApiToken)
    body = await gql(client, CREATE_TOKEN, {"name": "x", "roles": [role.value]}, token=team.tokens[role])
    assert body["data"]["createApiToken"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert await count(sessionmaker, ApiToken) == before


async def test_r_role_02_revoked_token_stops_working(client, team, sessionmaker):
    admin = team.tokens[Role.PARTNER_FULL_ADMIN]
    created = (await gql(client, CREATE_TOKEN, {"name": "ci", "roles": ["PARTNER_FULL_ADMIN"]}, token=admin))
    token_id, secret = created["data"]["createApiToken"]["apiToken"]["id"], created["data"]["createApiToken"]["token"]
    revoked = await gql(client, REVOKE_TOKEN, {"id": token_id}, token=admin)
    assert revoked["data"]["revokeApiToken"]["apiToken"]["revokedAt"]
    assert (await gql(client, VIEWER, token=secret))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_r_org_02_another_partners_token_answers_not_found(client, team, sessionmaker):
    other = await partner_team(sessionmaker)
    created = await gql(client, CREATE_TOKEN, {"name": "theirs", "roles": ["PARTNER_FULL_ADMIN"]},
                        token=other.tokens[Role.PARTNER_FULL_ADMIN])
    body = await gql(client, REVOKE_TOKEN, {"id": created["data"]["createApiToken"]["apiToken"]["id"]},
                     token=team.tokens[Role.PARTNER_FULL_ADMIN])
    assert body["data"]["revokeApiToken"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_change_password_revokes_other_sessions_keeps_this_one(client, team, app):
    import httpx

    email = team.emails[Role.SALES_ADMIN]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        other_csrf = await login(other, email)
        csrf = await login(client, email)
        body = await gql(client, PASSWORD, {"c": team.password, "n": "a brand new password"},
                         headers={"x-csrf-token": csrf})
        assert body["data"]["changePassword"] == {"ok": True, "userErrors": []}
        assert (await gql(client, VIEWER, headers={"x-csrf-token": csrf}))["data"]["viewer"]["email"] == email
        gone = await gql(other, VIEWER, headers={"x-csrf-token": other_csrf})
        assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_change_password_needs_the_current_one_and_a_long_new_one(client, team):
    csrf = await login(client, team.emails[Role.SALES_ADMIN])
    wrong = await gql(client, PASSWORD, {"c": "not it at all", "n": "a brand new password"}, headers={"x-csrf-token": csrf})
    assert wrong["data"]["changePassword"]["userErrors"][0]["field"] == ["currentPassword"]
    short = await gql(client, PASSWORD, {"c": team.password, "n": "short"}, headers={"x-csrf-token": csrf})
    assert short["data"]["changePassword"]["userErrors"][0]["field"] == ["newPassword"]
    await client.post("/logout", data={"csrf_token": csrf})
    await login(client, team.emails[Role.SALES_ADMIN], team.password)


async def test_api_tokens_cannot_change_passwords(client, team):
    body = await gql(client, PASSWORD, {"c": team.password, "n": "a brand new password"},
                     token=team.tokens[Role.SALES_ADMIN])
    assert body["data"]["changePassword"]["userErrors"][0]["code"] == "FORBIDDEN"


async def test_api_token_last_used_is_recorded_to_the_minute(client, team, sessionmaker):
    """Last-used time is recorded, but a busy integration does not write it on every call."""
    from datetime import timedelta

    from server import clock

    token = team.tokens[Role.READ_ONLY]

    async def last_used():
        async with sessionmaker() as db:
            return await db.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == team.user_ids[Role.READ_ONLY]))

    await gql(client, VIEWER, token=token)
    first = await last_used()
    await gql(client, VIEWER, token=token)
    assert await last_used() == first
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(minutes=2))
    await gql(client, VIEWER, token=token)
    assert await last_used() > first
