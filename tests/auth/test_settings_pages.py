"""Portal pages /settings/users and /settings/tokens (R-ROLE-02), through the real forms."""
from __future__ import annotations

import re

from server.enums import Role
from tests.factories import login, partner_team


async def test_r_role_02_full_admin_invites_and_creates_a_token_in_the_portal(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    csrf = await login(client, team.emails[Role.PARTNER_FULL_ADMIN])
    page = await client.get("/settings/users")
    assert page.status_code == 200 and team.emails[Role.PARTNER_FULL_ADMIN] in page.text
    invited = await client.post("/settings/users", data={"csrf_token": csrf, "email": "new@partner.example",
                                                         "roles": ["READ_ONLY"]})
    assert invited.status_code == 303
    assert "new@partner.example" in (await client.get("/settings/users")).text
    created = await client.post("/settings/tokens", data={"csrf_token": csrf, "name": "CRM",
                                                          "roles": ["PARTNER_FULL_ADMIN"]})
    assert created.status_code == 200
    assert re.search(r'<code id="new-token">td_[^<]+</code>', created.text)


async def test_invite_with_bad_email_shows_a_message(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    csrf = await login(client, team.emails[Role.PARTNER_FULL_ADMIN])
    response = await client.post("/settings/users", data={"csrf_token": csrf, "email": "nope", "roles": ["READ_ONLY"]})
    assert response.status_code == 400 and 'role="alert"' in response.text


async def test_r_role_02_other_roles_see_forbidden(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    await login(client, team.emails[Role.SALES_ADMIN])
    assert (await client.get("/settings/users")).status_code == 403
    assert (await client.get("/settings/tokens")).status_code == 403


async def test_settings_need_sign_in(client):
    response = await client.get("/settings/users")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
