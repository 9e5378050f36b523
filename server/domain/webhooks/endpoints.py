"""Webhook endpoints: a partner full admin registers, edits, enables, disables,
deletes them and rotates their secrets (R-ROLE-02: Action.MANAGE_WEBHOOKS). Another partner's
endpoint answers NOT_FOUND, like its users and tokens (R-ORG-02).

Rules written down here (the spec is silent):
- An endpoint subscribes to at least one event type of the catalogue (webhook_events.CATALOGUE).
- The URL is checked against SSRF (webhook_urls) when created and whenever it changes.
- The secret is returned once, by create and rotate; afterwards only its last four characters show.
  Rotation takes effect at once: deliveries still retrying are signed with the new secret.
- Deleting an endpoint deletes its delivery log; disabling keeps the log and leaves its pending
  deliveries waiting: they go out when it is enabled again (nothing is lost by a pause).
- Changes are audited (`webhook.*`); those actions are not webhook events themselves.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import WebhookDelivery, WebhookEndpoint
from server.domain.core import audit
from server.domain.webhooks import events as webhook_events
from server.domain.webhooks import secrets as webhook_secrets
from server.domain.webhooks import urls as webhook_urls
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError, not_found
from server.domain.core.permissions import Action, require
from server.enums import ErrorCode

MAX_ENDPOINTS = 20


def _types(event_types: list[str]) -> list[str]:
    try:
        chosen = webhook_events.check_types(event_types)
    except ValueError as error:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Unknown event types: {error}.", "eventTypes") from None
    if not chosen:
        raise DomainError(ErrorCode.INVALID_INPUT, "Choose at least one event type.", "eventTypes")
    return chosen


def _description(text: str) -> str:
    text = text.strip()
    if len(text) > 500:
        raise DomainError(ErrorCode.INVALID_INPUT, "Keep the description under 500 characters.", "description")
    return text


def _snapshot(endpoint: WebhookEndpoint) -> dict:
    return {"url": endpoint.url, "event_types": endpoint.event_types, "enabled": endpoint.enabled,
            "description": endpoint.description}


async def own_endpoint(db: AsyncSession, actor: Actor, endpoint_id: int | None, *, lock: bool = False) -> WebhookEndpoint:
    require(actor, Action.MANAGE_WEBHOOKS)
    endpoint = await db.get(WebhookEndpoint, endpoint_id, with_for_update=lock) if endpoint_id is not None else None
    if endpoint is None or endpoint.partner_id != actor.partner_id:
        raise missing_endpoint()
    return endpoint


def missing_endpoint() -> DomainError:
    """`own_endpoint`'s answer for an endpoint missing or another partner's (also the read planner's)."""
    return not_found("webhook endpoint", "id")


async def endpoints(db: AsyncSession, actor: Actor) -> list[WebhookEndpoint]:
    return list(await db.scalars(select(WebhookEndpoint).where(endpoints_in_reach(actor)).order_by(WebhookEndpoint.id)))


def endpoints_in_reach(actor: Actor):
    """The partner's endpoints its full admins manage, as a condition on `webhook_endpoints`;
    FORBIDDEN for anyone else."""
    require(actor, Action.MANAGE_WEBHOOKS)
    return WebhookEndpoint.partner_id == actor.partner_id


async def create_endpoint(db: AsyncSession, actor: Actor, url: str, event_types: list[str], description: str = "",
                          enabled: bool = True, *, settings) -> tuple[WebhookEndpoint, str]:
    """(row, the secret): the secret is returned this once."""
    require(actor, Action.MANAGE_WEBHOOKS)
    types, text = _types(event_types), _description(description)
    url = await webhook_urls.check(url, production=settings.env == "production")
    if len(await endpoints(db, actor)) >= MAX_ENDPOINTS:
        raise DomainError(ErrorCode.INVALID_STATE, f"A partner may have {MAX_ENDPOINTS} endpoints.", "url")
    secret, now = webhook_secrets.new_secret(), clock.now()
    endpoint = WebhookEndpoint(partner_id=actor.partner_id, url=url, description=text, event_types=types,
                               enabled=enabled, secret_ciphertext=webhook_secrets.encrypt(settings.secret_key, secret),
                               failed_in_row=0, created_at=now, updated_at=now)
    db.add(endpoint)
    await db.flush()
    audit.record(db, actor, "webhook.created", "WebhookEndpoint", endpoint.id, after=_snapshot(endpoint))
    return endpoint, secret


async def update_endpoint(db: AsyncSession, actor: Actor, endpoint_id: int | None, *, url: str | None = None,
                          event_types: list[str] | None = None, description: str | None = None,
                          enabled: bool | None = None, settings) -> WebhookEndpoint:
    """Change what is given; enabling an endpoint the system disabled clears its failure count."""
    endpoint = await own_endpoint(db, actor, endpoint_id, lock=True)
    before = _snapshot(endpoint)
    if event_types is not None:
        endpoint.event_types = _types(event_types)
    if description is not None:
        endpoint.description = _description(description)
    if url is not None and url.strip() != endpoint.url:
        endpoint.url = await webhook_urls.check(url, production=settings.env == "production")
    if enabled is not None and enabled != endpoint.enabled:
        endpoint.enabled = enabled
        endpoint.disabled_reason = None
        endpoint.failed_in_row = 0
    endpoint.updated_at = clock.now()
    audit.record(db, actor, "webhook.updated", "WebhookEndpoint", endpoint.id, before=before, after=_snapshot(endpoint))
    return endpoint


async def delete_endpoint(db: AsyncSession, actor: Actor, endpoint_id: int | None) -> int:
    endpoint = await own_endpoint(db, actor, endpoint_id, lock=True)
    await db.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    audit.record(db, actor, "webhook.deleted", "WebhookEndpoint", endpoint.id, before=_snapshot(endpoint))
    await db.delete(endpoint)
    return endpoint.id


async def rotate_secret(db: AsyncSession, actor: Actor, endpoint_id: int | None, *, settings) -> tuple[WebhookEndpoint, str]:
    endpoint = await own_endpoint(db, actor, endpoint_id, lock=True)
    secret = webhook_secrets.new_secret()
    endpoint.secret_ciphertext = webhook_secrets.encrypt(settings.secret_key, secret)
    endpoint.updated_at = clock.now()
    audit.record(db, actor, "webhook.secret_rotated", "WebhookEndpoint", endpoint.id)
    return endpoint, secret


def secret_hint(endpoint: WebhookEndpoint, secret_key: str) -> str:
    return hint_of(endpoint.secret_ciphertext, secret_key)


def hint_of(ciphertext: Any, secret_key: str) -> str:
    """The signing secret's last four characters, from its stored ciphertext ("?" when unreadable)."""
    try:
        return webhook_secrets.hint(webhook_secrets.decrypt(secret_key, ciphertext))
    except webhook_secrets.SecretUnreadable:
        return "?"
