"""`/settings/partner` (R-SET-01) through the real form: partner full admins only (others 403),
a saved form re-plans and shows the new values, bad input shows a message and changes nothing."""
from __future__ import annotations

import pytest

from server.enums import Role
from tests.factories import login, partner_team
from tests.settings.kit import read

FULL = Role.PARTNER_FULL_ADMIN


@pytest.fixture
async def team(sessionmaker):
    return await partner_team(sessionmaker)


async def test_r_set_01_full_admin_saves_the_settings_form(client, team):
    csrf = await login(client, team.emails[FULL])
    page = await client.get("/settings/partner")
    assert page.status_code == 200 and 'name="reminderDays" value="7" checked' in page.text
    saved = await client.post("/settings/partner", data={
        "csrf_token": csrf, "reminderDays": ["14", "3"], "senderName": "Nordlys Sales", "replyTo": "sales@nordlys.example",
        "recipients.warning_partner": ["PARTNER_FULL_ADMIN", "SALES_ADMIN"],
        "recipients.expired_partner": ["PARTNER_FULL_ADMIN"]})
    assert saved.status_code == 303 and saved.headers["location"] == "/settings/partner?saved=1"
    settings = await read(client, team.tokens[FULL])
    assert settings["reminderDays"] == [14, 3] and settings["senderName"] == "Nordlys Sales"
    roles = {r["kind"]: r["roles"] for r in settings["emailRecipients"]}
    assert roles["warning_partner"] == ["PARTNER_FULL_ADMIN", "SALES_ADMIN"] and roles["converted"] == []
    shown = await client.get("/settings/partner?saved=1")
    assert 'name="reminderDays" value="14" checked' in shown.text and "Nordlys Sales" in shown.text


@pytest.mark.parametrize("form, field", [
    ({"senderName": "x"}, "reminderDays"),                                       # no day ticked: []
    ({"reminderDays": ["0"]}, "reminderDays"),
    ({"reminderDays": ["seven"]}, "reminderDays"),
    ({"reminderDays": ["7"], "replyTo": "sales@nordlys.example\r\nBcc: all@example.com"}, "replyTo"),
    ({"reminderDays": ["7"], "senderName": "N" * 300}, "senderName"),
])
async def test_r_set_01_bad_form_input_shows_a_message_and_changes_nothing(client, team, form, field):
    csrf = await login(client, team.emails[FULL])
    before = await read(client, team.tokens[FULL])
    response = await client.post("/settings/partner", data={"csrf_token": csrf, **form})
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert f'id="{field}-error"' in response.text
    assert await read(client, team.tokens[FULL]) == before


@pytest.mark.parametrize("role", [Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN, Role.SALES_ADMIN, Role.READ_ONLY])
async def test_r_set_01_other_roles_get_403_on_the_settings_page(client, team, role):
    csrf = await login(client, team.emails[role])
    assert (await client.get("/settings/partner")).status_code == 403
    assert (await client.post("/settings/partner", data={"csrf_token": csrf, "reminderDays": ["1"]})).status_code == 403
    assert (await read(client, team.tokens[FULL]))["reminderDays"] == [7]
