"""Webhook endpoints over GraphQL (issue 17 item 1): partner full admins only, secret shown once,
bad input answered with userErrors, SSRF refused, another partner's endpoint is NOT_FOUND."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.db.models import WebhookEndpoint
from server.domain.webhooks import secrets as webhook_secrets
from server.domain.webhooks import urls as webhook_urls
from server.domain.core.errors import DomainError
from server.enums import Role
from tests.factories import partner_team
from tests.helpers import gql
from tests.webhooks.conftest import CREATE, admin, create_endpoint

LIST = "{ webhookEndpoints { id url description eventTypes enabled disabledReason secretHint } }"
UPDATE = """mutation($id: ID!, $url: String, $types: [String!], $enabled: Boolean, $description: String) {
  updateWebhookEndpoint(id: $id, url: $url, eventTypes: $types, enabled: $enabled, description: $description) {
    secret webhookEndpoint { id url eventTypes enabled description } userErrors { code field message } } }"""
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedId userErrors { code field message } } }"
ROTATE = """mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret webhookEndpoint { secretHint }
  userErrors { code field message } } }"""


async def _count(sessionmaker) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(WebhookEndpoint))


async def test_create_webhook_endpoint_shows_the_secret_once_and_stores_it_encrypted(client, team, sessionmaker):
    endpoint_id, secret = await create_endpoint(client, admin(team), "http://127.0.0.1:9/hooks", ["trial.started"])
    assert secret.startswith("whsec_") and len(secret) > 30
    listed = (await gql(client, LIST, token=admin(team)))["data"]["webhookEndpoints"]
    assert listed == [{"id": endpoint_id, "url": "http://127.0.0.1:9/hooks", "description": "CRM",
                       "eventTypes": ["trial.started"], "enabled": True, "disabledReason": None,
                       "secretHint": f"whsec_…{secret[-4:]}"}]
    async with sessionmaker() as db:
        stored = await db.scalar(select(WebhookEndpoint.secret_ciphertext))
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert webhook_secrets.decrypt("test-secret-key-" + "x" * 32, stored) == secret
    with pytest.raises(webhook_secrets.SecretUnreadable):
        webhook_secrets.decrypt("another-key-" + "y" * 32, stored)


@pytest.mark.parametrize("url, types, field", [
    ("ftp://127.0.0.1/x", ["trial.started"], "url"),
    ("not a url", ["trial.started"], "url"),
    ("http://user:pw@127.0.0.1/x", ["trial.started"], "url"),
    ("http://127.0.0.1/x", [], "eventTypes"),
    ("http://127.0.0.1/x", ["trial.started", "trial.exploded"], "eventTypes"),
    ("http://169.254.169.254/latest/meta-data", ["trial.started"], "url"),     # cloud metadata: link-local
    ("http://10.0.0.1/x", ["trial.started"], "url"),                          # private
    ("http://[::ffff:192.168.1.1]/x", ["trial.started"], "url"),               # private, as IPv6
])
async def test_create_webhook_endpoint_bad_input_is_a_user_error_and_changes_nothing(client, team, sessionmaker,
                                                                                    url, types, field):
    body = await gql(client, CREATE, {"url": url, "types": types, "description": ""}, token=admin(team))
    payload = body["data"]["createWebhookEndpoint"]
    assert payload["webhookEndpoint"] is None and payload["secret"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_INPUT", [field])]
    assert await _count(sessionmaker) == 0


@pytest.mark.parametrize("url", ["http://example.com/hooks", "https://127.0.0.1/hooks", "https://localhost/hooks",
                                 "https://10.1.2.3/hooks", "https://[::1]/hooks", "https://169.254.169.254/"])
async def test_ssrf_in_production_only_https_to_public_addresses(url):
    with pytest.raises(DomainError) as refused:
        await webhook_urls.check(url, production=True)
    assert refused.value.errors[0].field == ["url"]


async def test_ssrf_dev_allows_loopback_and_public_addresses():
    assert await webhook_urls.check("http://127.0.0.1:8080/x", production=False) == "http://127.0.0.1:8080/x"
    assert webhook_urls.allowed("93.184.215.14", production=True)
    assert not webhook_urls.allowed("127.0.0.1", production=True)
    assert not webhook_urls.allowed("100.64.0.1", production=False)                    # shared address space


@pytest.mark.parametrize("role", [Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN, Role.SALES_ADMIN, Role.READ_ONLY])
async def test_r_role_02_only_partner_full_admins_manage_webhook_endpoints(client, team, sessionmaker, role):
    body = await gql(client, CREATE, {"url": "http://127.0.0.1/x", "types": ["trial.started"], "description": ""},
                     token=team.tokens[role])
    assert [e["code"] for e in body["data"]["createWebhookEndpoint"]["userErrors"]] == ["FORBIDDEN"]
    listed = await gql(client, LIST, token=team.tokens[role])
    assert listed["data"] is None and "FORBIDDEN" in str(listed["errors"]) or "permission" in str(listed["errors"])
    assert await _count(sessionmaker) == 0


async def test_r_org_02_another_partners_endpoint_is_not_found(client, team, sessionmaker):
    endpoint_id, _ = await create_endpoint(client, admin(team), "http://127.0.0.1:9/hooks")
    other = await partner_team(sessionmaker)
    assert (await gql(client, LIST, token=admin(other)))["data"]["webhookEndpoints"] == []
    for query, variables, name in [(UPDATE, {"id": endpoint_id, "enabled": False}, "updateWebhookEndpoint"),
                                   (DELETE, {"id": endpoint_id}, "deleteWebhookEndpoint"),
                                   (ROTATE, {"id": endpoint_id}, "rotateWebhookSecret")]:
        body = await gql(client, query, variables, token=admin(other))
        assert [e["code"] for e in body["data"][name]["userErrors"]] == ["NOT_FOUND"], name
    listed = (await gql(client, LIST, token=admin(team)))["data"]["webhookEndpoints"]
    assert listed[0]["enabled"] is True


async def test_update_disable_rotate_and_delete_a_webhook_endpoint(client, team, sessionmaker):
    endpoint_id, secret = await create_endpoint(client, admin(team), "http://127.0.0.1:9/hooks")
    body = await gql(client, UPDATE, {"id": endpoint_id, "url": "http://127.0.0.1:10/new", "types": ["trial.expired"],
                                      "enabled": False, "description": "Billing"}, token=admin(team))
    assert body["data"]["updateWebhookEndpoint"] == {"secret": None, "userErrors": [], "webhookEndpoint": {
        "id": endpoint_id, "url": "http://127.0.0.1:10/new", "eventTypes": ["trial.expired"], "enabled": False,
        "description": "Billing"}}
    bad = await gql(client, UPDATE, {"id": endpoint_id, "url": "gopher://x"}, token=admin(team))
    assert [e["field"] for e in bad["data"]["updateWebhookEndpoint"]["userErrors"]] == [["url"]]
    rotated = (await gql(client, ROTATE, {"id": endpoint_id}, token=admin(team)))["data"]["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    assert rotated["webhookEndpoint"]["secretHint"].endswith(rotated["secret"][-4:])
    deleted = (await gql(client, DELETE, {"id": endpoint_id}, token=admin(team)))["data"]["deleteWebhookEndpoint"]
    assert deleted == {"deletedId": endpoint_id, "userErrors": []}
    assert await _count(sessionmaker) == 0


async def test_webhook_endpoint_description_is_at_most_500_characters(client, team, sessionmaker):
    """500 characters are kept, 501 refused on the field with nothing saved: kills the bound of
    `endpoints._description` moved (`> 500` -> `> 501`, a survivor of `make mutate`)."""
    kept = await gql(client, CREATE, {"url": "http://127.0.0.1:9/a", "types": ["trial.started"], "description": "d" * 500},
                     token=admin(team))
    assert kept["data"]["createWebhookEndpoint"]["userErrors"] == []
    refused = await gql(client, CREATE, {"url": "http://127.0.0.1:9/b", "types": ["trial.started"],
                                         "description": "d" * 501}, token=admin(team))
    assert [(e["code"], e["field"]) for e in refused["data"]["createWebhookEndpoint"]["userErrors"]] == [
        ("INVALID_INPUT", ["description"])]
    assert await _count(sessionmaker) == 1
