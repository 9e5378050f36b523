"""Issue 27 item 6: destructive actions (revoke a token, deactivate a user, delete a webhook endpoint)
confirm first, with a dialog or, without JavaScript, a confirmation page; one cannot deactivate
oneself; every action that waits shows it (its button disabled and busy while the request runs)."""
from __future__ import annotations

import asyncio
import re

import pytest

from server.enums import Role
from tests.factories import login, partner_team
from tests.helpers import gql


@pytest.fixture
async def admin(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN, Role.READ_ONLY])
    csrf = await login(client, team.emails[Role.PARTNER_FULL_ADMIN])
    return team, csrf


def user_id(html: str, email: str) -> str:
    row = re.search(rf"<tr>\s*<td>{re.escape(email)}</td>.*?</tr>", html, re.S).group(0)
    return re.search(r'name="userId" value="([^"]+)"', row).group(1)


async def test_r_role_02_deactivating_a_user_asks_first_and_never_oneself(client, admin):
    team, csrf = admin
    page = (await client.get("/settings/users")).text
    own_row = re.search(rf"<tr>\s*<td>{re.escape(team.emails[Role.PARTNER_FULL_ADMIN])}</td>.*?</tr>", page, re.S).group(0)
    assert "Deactivate" not in own_row and "You" in own_row                  # no button for oneself
    target = user_id(page, team.emails[Role.READ_ONLY])
    asked = await client.post("/settings/users", data={"csrf_token": csrf, "action": "deactivate", "userId": target})
    assert asked.status_code == 200 and "Are you sure?" in asked.text and team.emails[Role.READ_ONLY] in asked.text
    assert "Deactivated" not in (await client.get("/settings/users")).text  # nothing changed yet
    done = await client.post("/settings/users", data={"csrf_token": csrf, "action": "deactivate", "userId": target,
                                                       "confirmed": "yes"})
    assert done.status_code == 303 and "Deactivated" in (await client.get("/settings/users")).text


async def test_r_role_02_one_cannot_deactivate_oneself_even_by_a_crafted_post(client, admin):
    team, csrf = admin
    me = team.user_ids[Role.PARTNER_FULL_ADMIN]
    from server.schema.node import to_global_id

    response = await client.post("/settings/users", data={"csrf_token": csrf, "action": "deactivate",
                                                           "userId": to_global_id("PartnerUser", me), "confirmed": "yes"})
    assert response.status_code == 400 and "You cannot deactivate yourself." in response.text


async def test_revoking_a_token_asks_first(client, admin):
    _, csrf = admin
    created = await client.post("/settings/tokens", data={"csrf_token": csrf, "name": "CRM", "roles": ["PARTNER_FULL_ADMIN"]})
    row = re.search(r"<tr>\s*<td>CRM</td>.*?</tr>", created.text, re.S).group(0)
    token_id = re.search(r'name="tokenId" value="([^"]+)"', row).group(1)
    asked = await client.post("/settings/tokens", data={"csrf_token": csrf, "action": "revoke", "tokenId": token_id})
    assert "Are you sure?" in asked.text and "CRM" in asked.text
    assert "Revoked" not in (await client.get("/settings/tokens")).text
    await client.post("/settings/tokens", data={"csrf_token": csrf, "action": "revoke", "tokenId": token_id, "confirmed": "yes"})
    assert "Revoked" in (await client.get("/settings/tokens")).text


async def test_deleting_a_webhook_endpoint_asks_first(client, admin):
    _, csrf = admin
    created = await gql(client, 'mutation { createWebhookEndpoint(url: "http://127.0.0.1:9/in", eventTypes: ["trial.started"], '
                        'description: "CRM") { webhookEndpoint { id } } }', headers={"x-csrf-token": csrf})
    endpoint = created["data"]["createWebhookEndpoint"]["webhookEndpoint"]["id"]
    asked = await client.post(f"/settings/webhooks/{endpoint}", data={"csrf_token": csrf, "action": "delete"})
    assert asked.status_code == 200 and "Are you sure?" in asked.text and "http://127.0.0.1:9/in" in asked.text
    assert (await client.get(f"/settings/webhooks/{endpoint}")).status_code == 200      # still there
    done = await client.post(f"/settings/webhooks/{endpoint}", data={"csrf_token": csrf, "action": "delete", "confirmed": "yes"})
    assert done.status_code == 303
    assert (await client.get(f"/settings/webhooks/{endpoint}")).status_code == 404


@pytest.mark.browser
async def test_a_waiting_action_shows_it_and_a_destructive_one_opens_a_dialog(new_page, team):
    """In Chromium: Revoke opens a dialog (nothing posted); its Yes posts, and while the answer is held
    back the button is disabled and busy."""
    from tests.pages.test_browser_flows import sign_in

    page = await new_page(viewport={"width": 390, "height": 844})
    await sign_in(page, team.emails[Role.PARTNER_FULL_ADMIN], team.password)
    await page.goto("/settings/tokens")
    await page.fill("input[name=name]", "CRM")
    await page.check("input[name=roles][value=PARTNER_FULL_ADMIN]")
    await page.click("form:has(input[name=name]) button[type=submit]")
    await page.wait_for_selector("#new-token")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    await page.click("button[data-dialog^=revoke-]")
    dialog = page.locator("dialog[open]")
    await dialog.wait_for()
    assert posts == []                                                          # asked, not done
    release = asyncio.Event()
    seen = asyncio.Event()

    async def hold(route):
        seen.set()
        await release.wait()
        await route.continue_()

    await page.route("**/settings/tokens", hold)
    yes = dialog.locator("button[type=submit]")
    await yes.click()
    await seen.wait()
    assert await yes.is_disabled() and await yes.get_attribute("aria-busy") == "true"
    release.set()
    await page.wait_for_selector("text=Revoked")
