"""`/settings/webhooks` through the real forms (issue 17 items 1 and 4): create with the secret
shown once, edit, disable, send a test event, the delivery log, one delivery, Resend, rotate,
delete; other roles see forbidden, another partner's endpoint is not found; en and nb."""
from __future__ import annotations

import re

from jobs import webhooks
from server.enums import Role
from tests.factories import login, partner_team
from tests.webhooks.conftest import verify


async def test_webhooks_portal_flow_create_test_log_resend_rotate_delete(client, sessionmaker, receiver, runtime):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    csrf = await login(client, team.emails[Role.PARTNER_FULL_ADMIN])
    assert (await client.get("/settings/webhooks")).status_code == 200
    bad = await client.post("/settings/webhooks", data={"csrf_token": csrf, "url": "ftp://x", "eventTypes": []})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text and "ftp://x" in bad.text
    created = await client.post("/settings/webhooks", data={"csrf_token": csrf, "url": receiver.url, "description": "CRM",
                                                            "eventTypes": ["trial.started", "trial.expired"]})
    assert created.status_code == 200
    secret = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', created.text).group(1)
    endpoint_url = re.search(r'href="(/settings/webhooks/[^"/]+)"', created.text).group(1)
    listing = await client.get("/settings/webhooks")
    assert secret not in listing.text and f"whsec_…{secret[-4:]}" in listing.text
    tested = await client.post(endpoint_url, data={"csrf_token": csrf, "action": "test"})
    assert tested.status_code == 303
    assert await webhooks.flush(runtime) == 1
    assert verify(secret, receiver.requests[0].headers, receiver.requests[0].body)
    page = await client.get(endpoint_url)
    assert "webhook.test" in page.text and "Delivered" in page.text and "200" in page.text
    delivery_url = re.search(r'href="(/settings/webhooks/deliveries/[^"]+)"', page.text).group(1)
    detail = await client.get(delivery_url)
    assert detail.status_code == 200 and "webhook-signature" in detail.text and "answered 200" in detail.text
    resent = await client.post(delivery_url, data={"csrf_token": csrf})
    assert resent.status_code == 303 and resent.headers["location"] != delivery_url
    assert await webhooks.flush(runtime) == 1
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    edited = await client.post(endpoint_url, data={"csrf_token": csrf, "action": "edit", "url": receiver.url,
                                                   "description": "Billing", "eventTypes": ["trial.converted"]})
    assert edited.status_code == 303
    disabled = await client.post(endpoint_url, data={"csrf_token": csrf, "action": "disable"})
    assert disabled.status_code == 303
    page = await client.get(endpoint_url)
    assert "Billing" in page.text and "Disabled" in page.text and ">Enable<" in page.text
    rotated = await client.post(endpoint_url, data={"csrf_token": csrf, "action": "rotate"})
    new_secret = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', rotated.text).group(1)
    assert new_secret != secret
    deleted = await client.post(endpoint_url, data={"csrf_token": csrf, "action": "delete", "confirmed": "yes"})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/settings/webhooks"
    assert (await client.get(endpoint_url)).status_code == 404


async def test_r_role_02_webhooks_pages_are_for_partner_full_admins(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_ADMIN])
    await login(client, team.emails[Role.PARTNER_ADMIN])
    assert (await client.get("/settings/webhooks")).status_code == 403


async def test_r_org_02_another_partners_endpoint_page_is_not_found(client, sessionmaker, receiver):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    other = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    csrf = await login(client, team.emails[Role.PARTNER_FULL_ADMIN])
    created = await client.post("/settings/webhooks", data={"csrf_token": csrf, "url": receiver.url,
                                                            "eventTypes": ["trial.started"]})
    endpoint_url = re.search(r'href="(/settings/webhooks/[^"/]+)"', created.text).group(1)
    await client.post("/logout", data={"csrf_token": csrf})
    csrf = await login(client, other.emails[Role.PARTNER_FULL_ADMIN])
    assert (await client.get(endpoint_url)).status_code == 404
    assert (await client.post(endpoint_url, data={"csrf_token": csrf, "action": "delete"})).status_code == 404


async def test_webhooks_page_in_norwegian(client, sessionmaker):
    team = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    await login(client, team.emails[Role.PARTNER_FULL_ADMIN])
    page = await client.get("/settings/webhooks", headers={"accept-language": "nb"})
    assert page.status_code == 200 and "Nytt endepunkt" in page.text and "Hendelser som skal sendes" in page.text
