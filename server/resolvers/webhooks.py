"""Webhook endpoints, their delivery log and replay. Thin: one domain call each;
DomainErrors become userErrors (mutations) or a FORBIDDEN/NOT_FOUND GraphQL error (queries)."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.db.models import WebhookDelivery as DeliveryRow
from server.db.models import WebhookEndpoint as EndpointRow
from server.domain.webhooks import events as webhook_events
from server.planner import declare as plan
from server.planner import roots
from server.domain.webhooks import log as webhook_log
from server.domain.webhooks import endpoints as webhooks
from server.resolvers.answer import attempt
from server.resolvers.users import _query, query_error
from server.schema.node import decode_id, to_global_id
from server.schema.permissions import IsAuthenticated
from server.schema.types.webhooks import (DeleteWebhookEndpointPayload, WebhookDelivery, WebhookDeliveryPayload,
                                          WebhookEndpoint, WebhookEndpointPayload)

AUTH = [IsAuthenticated]


def _endpoint_out(info: Info, row) -> WebhookEndpoint:
    return WebhookEndpoint.from_row(row, webhooks.secret_hint(row, info.context.settings.secret_key))


def _pk(global_id: strawberry.ID, type_name: str) -> int:
    pk = decode_id(str(global_id), type_name)
    return -1 if pk is None else pk      # malformed: answered NOT_FOUND by the domain


@strawberry.type
class WebhookQuery:
    @strawberry.field(permission_classes=AUTH, description="The event types an endpoint may subscribe to.")
    def webhook_event_types(self) -> list[str]:
        return list(webhook_events.CATALOGUE)

    @strawberry.field(permission_classes=AUTH, description="Your partner's webhook endpoints (partner full admins).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        async def call(db):
            return [_endpoint_out(info, row) for row in await webhooks.endpoints(db, info.context.actor)]
        return await _query(info, "webhookEndpoints", call)

    @strawberry.field(permission_classes=AUTH)
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint:
        async def call(db):
            return _endpoint_out(info, await webhooks.own_endpoint(db, info.context.actor, _pk(id, "WebhookEndpoint")))
        return await _query(info, "webhookEndpoint", call)

    @strawberry.field(permission_classes=AUTH, description="An endpoint's deliveries, newest first (first ≤ 100).")
    async def webhook_deliveries(self, info: Info, endpoint_id: strawberry.ID, first: int = 50) -> list[WebhookDelivery]:
        async def call(db):
            rows = await webhook_log.deliveries(db, info.context.actor, _pk(endpoint_id, "WebhookEndpoint"), first)
            return [WebhookDelivery.from_row(row) for row in rows]
        return await _query(info, "webhookDeliveries", call)

    @strawberry.field(permission_classes=AUTH, description="One delivery with its request and response.")
    async def webhook_delivery(self, info: Info, id: strawberry.ID) -> WebhookDelivery:
        async def call(db):
            return WebhookDelivery.from_row(await webhook_log.delivery(db, info.context.actor, _pk(id, "WebhookDelivery")))
        return await _query(info, "webhookDelivery", call)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(permission_classes=AUTH, description="Returns the signing secret once.")
    async def create_webhook_endpoint(self, info: Info, url: str, event_types: list[str], description: str = "",
                                      enabled: bool = True) -> WebhookEndpointPayload:
        async def call(db):
            row, secret = await webhooks.create_endpoint(db, info.context.actor, url, event_types, description, enabled,
                                                         settings=info.context.settings)
            return _endpoint_out(info, row), secret
        result, errors = await attempt(info, "createWebhookEndpoint", call)
        endpoint, secret = result or (None, None)
        return WebhookEndpointPayload(webhook_endpoint=endpoint, secret=secret, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="Changes what is given; enabled=true re-enables it.")
    async def update_webhook_endpoint(self, info: Info, id: strawberry.ID, url: str | None = None,
                                      event_types: list[str] | None = None, description: str | None = None,
                                      enabled: bool | None = None) -> WebhookEndpointPayload:
        async def call(db):
            row = await webhooks.update_endpoint(db, info.context.actor, _pk(id, "WebhookEndpoint"), url=url,
                                                 event_types=event_types, description=description, enabled=enabled,
                                                 settings=info.context.settings)
            return _endpoint_out(info, row)
        endpoint, errors = await attempt(info, "updateWebhookEndpoint", call)
        return WebhookEndpointPayload(webhook_endpoint=endpoint, secret=None, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="Deletes the endpoint and its delivery log.")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> DeleteWebhookEndpointPayload:
        async def call(db):
            return to_global_id("WebhookEndpoint", await webhooks.delete_endpoint(db, info.context.actor,
                                                                                  _pk(id, "WebhookEndpoint")))
        deleted, errors = await attempt(info, "deleteWebhookEndpoint", call)
        return DeleteWebhookEndpointPayload(deleted_id=deleted, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="A new signing secret, returned once; the old one stops.")
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> WebhookEndpointPayload:
        async def call(db):
            row, secret = await webhooks.rotate_secret(db, info.context.actor, _pk(id, "WebhookEndpoint"),
                                                       settings=info.context.settings)
            return _endpoint_out(info, row), secret
        result, errors = await attempt(info, "rotateWebhookSecret", call)
        endpoint, secret = result or (None, None)
        return WebhookEndpointPayload(webhook_endpoint=endpoint, secret=secret, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="Sends the delivery's event again (same webhook-id).")
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> WebhookDeliveryPayload:
        async def call(db):
            return WebhookDelivery.from_row(await webhook_log.redeliver(db, info.context.actor,
                                                                        _pk(delivery_id, "WebhookDelivery")))
        delivery, errors = await attempt(info, "redeliverWebhook", call)
        return WebhookDeliveryPayload(delivery=delivery, user_errors=errors)

    @strawberry.mutation(permission_classes=AUTH, description="Sends a webhook.test event to this endpoint.")
    async def send_test_webhook(self, info: Info, endpoint_id: strawberry.ID) -> WebhookDeliveryPayload:
        async def call(db):
            return WebhookDelivery.from_row(await webhook_log.send_test(db, info.context.actor,
                                                                        _pk(endpoint_id, "WebhookEndpoint")))
        delivery, errors = await attempt(info, "sendTestWebhook", call)
        return WebhookDeliveryPayload(delivery=delivery, user_errors=errors)


# What the planner reads for these fields (server.planner): the domain's reach (a FORBIDDEN, an argument
# refused, an endpoint or delivery out of reach: the domain's errors, answered and audited as the
# resolver does, `query_error`).
plan.root("webhookEventTypes", roots.Value(lambda: list(webhook_events.CATALOGUE), public=False))
plan.root("webhookEndpoints", roots.RowList("WebhookEndpoint", EndpointRow, order=lambda endpoint: [endpoint.c.id],
                                            condition=lambda actor, endpoint, bound: webhooks.endpoints_in_reach(actor)),
          refusal=query_error)
plan.root("webhookEndpoint", roots.ById("WebhookEndpoint", EndpointRow, webhooks.endpoints_in_reach, required=True,
                                        missing=webhooks.missing_endpoint),
          refusal=query_error)
plan.root("webhookDeliveries", roots.ChildrenOf(
    "WebhookDelivery", "WebhookEndpoint", "endpointId",
    visible=webhook_log.endpoint_in_reach,
    rows=lambda actor, pk, limit: webhook_log.newest(pk, limit), order=lambda delivery: [delivery.id.desc()],
    limit=lambda args: webhook_log.check_first(args["first"]), missing=webhooks.missing_endpoint), refusal=query_error)
plan.root("webhookDelivery", roots.ById("WebhookDelivery", DeliveryRow, webhook_log.deliveries_in_reach, required=True,
                                        missing=webhook_log.missing_delivery, exists=True),
          refusal=query_error)
