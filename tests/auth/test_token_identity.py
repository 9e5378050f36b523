"""Issue 16 item 3, R-ROLE-02: a bearer token acts as the user it was made for. `viewer` over the token
is `viewer` over that user's session, every permission check is the user's (with the user's current
roles, among the token's own), and a deactivated user's token stops working."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from server.auth.tokens import hash_token, new_token
from server.db.models import User
from server.domain.orgs import directory
from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import PARTNER_ROLES, login, partner_team
from tests.helpers import gql

VIEWER = "{ viewer { email roles partner { id name certified tier } } }"
TOKENS = "{ apiTokens { name userEmail roles lastUsedAt revokedAt } }"
START = """mutation($input: StartTrialInput!) { startTrial(input: $input) { trial { id } userErrors { code } } }"""
ROLES = """mutation($id: ID!, $roles: [Role!]!) { updateUserRoles(userId: $id, roles: $roles) { userErrors { code } } }"""
DEACTIVATE = """mutation($id: ID!) { deactivateUser(userId: $id) { userErrors { code } } }"""
PASSWORD = "correct horse battery staple"


def start_input(n: int) -> dict:
    return {"input": {"companyName": f"Token Co {n}", "adminEmail": f"admin{n}@tokenco{n}.example",
                      "businessVertical": "Retail", "country": "NO", "supportedLocationConfirmed": True,
                      "services": ["MESSAGING"], "licenseCount": 10, "durationDays": 30}}


async def session_client(app, email: str) -> tuple[httpx.AsyncClient, dict[str, str]]:
    """A browser-like client signed in through `/login`, and the CSRF header its `/graphql` POSTs carry."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    csrf = await login(client, email, PASSWORD)
    return client, {"x-csrf-token": csrf}


async def trials_team_user(sessionmaker, email: str = "tt@platform.example") -> str:
    """A trials-team user and a token made for them as the CLI makes it (their roles)."""
    token = new_token()
    async with sessionmaker() as db, db.begin():
        user = await directory.create_user(db, email, [Role.TRIALS_TEAM], partner_id=None, password=PASSWORD)
        await directory.create_api_token(db, user, hash_token(token), [Role.TRIALS_TEAM], "cli")
    return token


def outcome(body: dict, field: str) -> str:
    if body.get("errors"):
        return body["errors"][0].get("extensions", {}).get("code", "ERROR")
    errors = body["data"][field].get("userErrors") if isinstance(body["data"][field], dict) else None
    return errors[0]["code"] if errors else "OK"


@pytest.mark.parametrize("role", [*PARTNER_ROLES, Role.TRIALS_TEAM])
async def test_r_role_02_viewer_over_a_token_is_the_viewer_of_its_users_session(app, client, sessionmaker, role):
    if role is Role.TRIALS_TEAM:
        email, token = "tt@platform.example", await trials_team_user(sessionmaker)
    else:
        team = await partner_team(sessionmaker, roles=[role])
        email, token = team.emails[role], team.tokens[role]
    browser, csrf = await session_client(app, email)
    try:
        over_session = await gql(browser, VIEWER, headers=csrf)
    finally:
        await browser.aclose()
    over_token = await gql(client, VIEWER, token=token)
    assert over_token == over_session
    viewer = over_token["data"]["viewer"]
    assert viewer["email"] == email and viewer["roles"] == [role.value]
    assert (viewer["partner"] is None) == (role is Role.TRIALS_TEAM)


@pytest.mark.parametrize("role", PARTNER_ROLES)
async def test_r_role_02_permission_checks_through_a_token_are_its_users(app, client, sessionmaker, role):
    """The same calls answer the same through the user's token and the user's session: starting a
    trial (sales roles), managing tokens (partner full admins), the customer list (everyone)."""
    team = await partner_team(sessionmaker, roles=[role])
    browser, csrf = await session_client(app, team.emails[role])
    try:
        answers = {}
        for via, (caller, token, headers) in {"token": (client, team.tokens[role], None),
                                              "session": (browser, None, csrf)}.items():
            started = await gql(caller, START, start_input(len(answers)), token=token, headers=headers)
            tokens = await gql(caller, TOKENS, token=token, headers=headers)
            listed = await gql(caller, "{ customers(first: 5) { totalCount } }", token=token, headers=headers)
            answers[via] = (outcome(started, "startTrial"), "FORBIDDEN" if tokens.get("errors") else "OK",
                            "OK" if listed["data"] else "ERROR")
    finally:
        await browser.aclose()
    assert answers["token"] == answers["session"]
    may_start = role in (Role.SALES_FULL_ADMIN, Role.SALES_ADMIN)
    assert answers["token"] == ("OK" if may_start else "FORBIDDEN",
                                "OK" if role is Role.PARTNER_FULL_ADMIN else "FORBIDDEN", "OK")


async def test_r_role_02_a_token_loses_at_once_a_role_its_user_loses(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    token = new_token()
    async with sessionmaker() as db, db.begin():
        user = await directory.create_user(db, "seller@tokens.example", [Role.SALES_FULL_ADMIN, Role.READ_ONLY],
                                           partner_id=team.partner_id, password=PASSWORD)
        await directory.create_api_token(db, user, hash_token(token), [Role.SALES_FULL_ADMIN, Role.READ_ONLY], "crm")
    assert outcome(await gql(client, START, start_input(1), token=token), "startTrial") == "OK"

    admin = team.tokens[Role.PARTNER_FULL_ADMIN]
    changed = await gql(client, ROLES, {"id": to_global_id("PartnerUser", user.id), "roles": ["READ_ONLY"]}, token=admin)
    assert changed["data"]["updateUserRoles"]["userErrors"] == []
    assert (await gql(client, VIEWER, token=token))["data"]["viewer"]["roles"] == ["READ_ONLY"]
    assert outcome(await gql(client, START, start_input(2), token=token), "startTrial") == "FORBIDDEN"
    assert (await gql(client, "{ customers(first: 5) { totalCount } }", token=token))["data"]["customers"]["totalCount"] == 1


async def test_r_role_02_a_deactivated_users_token_stops_working(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN, Role.SALES_ADMIN, Role.READ_ONLY])
    admin = team.tokens[Role.PARTNER_FULL_ADMIN]
    assert (await gql(client, VIEWER, token=team.tokens[Role.SALES_ADMIN]))["data"]["viewer"]
    body = await gql(client, DEACTIVATE, {"id": to_global_id("PartnerUser", team.user_ids[Role.SALES_ADMIN])},
                     token=admin)
    assert body["data"]["deactivateUser"]["userErrors"] == []
    refused = await gql(client, VIEWER, token=team.tokens[Role.SALES_ADMIN])
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # A user deactivated some other way (their token not revoked) is refused just the same.
    async with sessionmaker() as db, db.begin():
        await db.execute(update(User).where(User.id == team.user_ids[Role.READ_ONLY]).values(active=False))
    refused = await gql(client, VIEWER, token=team.tokens[Role.READ_ONLY])
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_r_role_02_the_tokens_list_keeps_each_tokens_name_and_last_use(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN, Role.SALES_ADMIN])
    await gql(client, VIEWER, token=team.tokens[Role.SALES_ADMIN])
    listed = (await gql(client, TOKENS, token=team.tokens[Role.PARTNER_FULL_ADMIN]))["data"]["apiTokens"]
    seller = next(t for t in listed if t["userEmail"] == team.emails[Role.SALES_ADMIN])
    assert seller["name"] == "test" and seller["roles"] == ["SALES_ADMIN"]
    assert seller["lastUsedAt"] is not None and seller["revokedAt"] is None
