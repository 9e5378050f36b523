"""An endpoint changed by a partner while the worker disables it (3 failed deliveries in a row, the
README's Delivery): the partner's change waits for the worker's and starts from what it left, as if
they had come one after the other. PostgreSQL only: its row lock (`own_endpoint(lock=True)`) is what
orders them; SQLite takes the whole database for a write, so there the two cannot interleave."""
from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from server.db.models import AuditEvent, WebhookEndpoint
from server.domain.webhooks import attempts
from server.schema.node import decode_id
from tests.helpers import gql
from tests.locks import until_waiting
from tests.webhooks.conftest import admin, create_endpoint
from tests.webhooks.test_endpoints_api import DELETE, UPDATE

async def _while_the_worker_disables(sessionmaker, endpoint_id: int, change):
    """Run `change()` (a request) while the worker's transaction has disabled the endpoint, holding
    its row lock; let the worker commit once the request waits on a lock; the request's answer."""
    async with sessionmaker() as db, db.begin():
        await db.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(failed_in_row=2))
    async with sessionmaker() as worker, worker.begin():
        await attempts.endpoint_failed(worker, endpoint_id, 1, base_url="http://testserver")   # the 3rd failure
        request = asyncio.create_task(change())
        await until_waiting(sessionmaker, request)  # until the request waits on the worker's lock
    return await request


async def test_enabling_an_endpoint_the_worker_is_disabling_leaves_it_enabled(client, team, sessionmaker, postgres):
    """Kills `update_endpoint`'s row lock dropped (`own_endpoint(..., lock=True)` -> `lock=False`, a
    survivor of `make mutate` on both backends): the partner's request would read the endpoint still
    enabled, change nothing, answer "enabled" and leave it disabled."""
    gid, _ = await create_endpoint(client, admin(team), "http://127.0.0.1:9/hook")
    endpoint_id = decode_id(gid, "WebhookEndpoint")
    body = await _while_the_worker_disables(
        sessionmaker, endpoint_id, lambda: gql(client, UPDATE, {"id": gid, "enabled": True}, token=admin(team)))
    assert body["data"]["updateWebhookEndpoint"]["webhookEndpoint"]["enabled"] is True, body
    async with sessionmaker() as db:
        row = await db.get(WebhookEndpoint, endpoint_id)
        updated = await db.scalar(select(AuditEvent).where(AuditEvent.action == "webhook.updated"))
    assert (row.enabled, row.disabled_reason, row.failed_in_row) == (True, None, 0)
    assert (updated.before["enabled"], updated.after["enabled"]) == (False, True)


async def test_deleting_an_endpoint_the_worker_is_disabling_audits_what_was_deleted(client, team, sessionmaker,
                                                                                     postgres):
    """SPEC §9 "before": the deletion's audit event shows the endpoint as it was deleted, disabled.
    Kills `delete_endpoint`'s row lock dropped (`lock=True` -> `lock=False`, a survivor of `make
    mutate` on both backends): it would record the endpoint as still enabled."""
    gid, _ = await create_endpoint(client, admin(team), "http://127.0.0.1:9/hook")
    endpoint_id = decode_id(gid, "WebhookEndpoint")
    body = await _while_the_worker_disables(
        sessionmaker, endpoint_id, lambda: gql(client, DELETE, {"id": gid}, token=admin(team)))
    assert body["data"]["deleteWebhookEndpoint"]["userErrors"] == [], body
    async with sessionmaker() as db:
        assert await db.get(WebhookEndpoint, endpoint_id) is None
        deleted = await db.scalar(select(AuditEvent).where(AuditEvent.action == "webhook.deleted"))
    assert deleted.before["enabled"] is False
