"""The delivery log and replay: an endpoint's recent deliveries, one delivery's
request and response, a resend, and a test event. Partner full admins of the endpoint's partner only.

- A resend (`redeliver`) is a new delivery of the same event with the same body and the same
  `webhook-id` (receivers that saw it may drop it), sent at once and retried like any other.
- A test event is an audit event `webhook.test` (so it has an ID, a time and a place in the trail)
  delivered to that one endpoint only; the fan-out does not send it anywhere else.
"""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import WebhookDelivery, WebhookEndpoint
from server.domain.core import audit
from server.domain.webhooks import events as webhook_events
from server.domain.webhooks import fanout as webhook_fanout
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError, not_found
from server.domain.core.permissions import Action, require
from server.domain.webhooks.endpoints import endpoints_in_reach, missing_endpoint, own_endpoint
from server.enums import ErrorCode

MAX_PAGE = 100


async def deliveries(db: AsyncSession, actor: Actor, endpoint_id: int | None, first: int = 50) -> list[WebhookDelivery]:
    """An endpoint's newest deliveries first."""
    endpoint = await own_endpoint(db, actor, endpoint_id)
    return list(await db.scalars(newest(endpoint.id, check_first(first))))


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Ask for 1 to {MAX_PAGE} deliveries.", "first")
    return first


def newest(endpoint_id, limit) -> Select:
    """An endpoint's `limit` newest deliveries (values or SQL expressions: the planner binds them)."""
    return select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id).order_by(
        WebhookDelivery.id.desc()).limit(limit)


def endpoint_in_reach(actor: Actor, endpoint_id) -> Select:
    """The endpoint's id if `actor` manages it (`endpoint_id`: a value or a bound parameter)."""
    return select(WebhookEndpoint.id).where(WebhookEndpoint.id == endpoint_id, endpoints_in_reach(actor))


def deliveries_in_reach(actor: Actor):
    """The deliveries of the endpoints `actor` manages, as a condition on `webhook_deliveries`;
    FORBIDDEN for anyone else."""
    return WebhookDelivery.endpoint_id.in_(select(WebhookEndpoint.id).where(endpoints_in_reach(actor)))


async def delivery(db: AsyncSession, actor: Actor, delivery_id: int | None) -> WebhookDelivery:
    require(actor, Action.MANAGE_WEBHOOKS)
    row = await db.get(WebhookDelivery, delivery_id) if delivery_id is not None else None
    if row is None:
        raise missing_delivery(exists=False)
    await own_endpoint(db, actor, row.endpoint_id)   # another partner's delivery: NOT_FOUND as well
    return row


def missing_delivery(exists: bool) -> DomainError:
    """`delivery`'s answer for a delivery out of reach: NOT_FOUND of the delivery when there is no such
    row, else of its endpoint (`own_endpoint`: another partner's). The read planner's too."""
    return missing_endpoint() if exists else not_found("webhook delivery", "id")


async def redeliver(db: AsyncSession, actor: Actor, delivery_id: int | None) -> WebhookDelivery:
    original = await delivery(db, actor, delivery_id)
    row = webhook_fanout.delivery_row(original.endpoint_id, original.event_id, original.event_type, original.payload,
                                      clock.now(), manual=True)
    resend = WebhookDelivery(**row)
    db.add(resend)
    await db.flush()
    audit.record(db, actor, "webhook.redelivered", "WebhookDelivery", resend.id, after={"of": original.id})
    return resend


async def send_test(db: AsyncSession, actor: Actor, endpoint_id: int | None) -> WebhookDelivery:
    endpoint = await own_endpoint(db, actor, endpoint_id)
    event = audit.record(db, actor, webhook_events.TEST_EVENT, "WebhookEndpoint", endpoint.id,
                         after={"endpoint": endpoint.id})
    await db.flush()
    body = webhook_events.payload(event.id, webhook_events.TEST_EVENT, event.at, "WebhookEndpoint", endpoint.id,
                                  None, None, {"message": "A test event from Trialdesk."})
    row = WebhookDelivery(**webhook_fanout.delivery_row(endpoint.id, event.id, webhook_events.TEST_EVENT, body,
                                                        clock.now(), manual=True))
    db.add(row)
    await db.flush()
    return row

