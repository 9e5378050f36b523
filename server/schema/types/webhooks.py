"""Webhook endpoints and deliveries: partner full admins only."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from server.db.models import WebhookDelivery as DeliveryRow
from server.db.models import WebhookEndpoint as EndpointRow
from server.domain.webhooks.endpoints import hint_of
from server.planner import declare as plan
from server.schema import columns
from server.schema.errors import UserError
from server.schema.node import Node, to_global_id


@strawberry.enum(description="PENDING until a 2xx answer (DELIVERED) or the end of the retry schedule (FAILED).")
class WebhookDeliveryStatus(Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@strawberry.type(description="A URL that hears about the partner's customers' trials; its secret is shown once.")
class WebhookEndpoint(Node):
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None = strawberry.field(description="Set when Trialdesk disabled it after failures.")
    secret_hint: str = strawberry.field(description="The secret's last four characters.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: EndpointRow, secret_hint: str) -> "WebhookEndpoint":
        return cls(**columns.values(cls, row, id=to_global_id("WebhookEndpoint", row.id), secret_hint=secret_hint))


@strawberry.type
class WebhookHeader:
    name: str
    value: str


def request_headers(webhook_id: str, timestamp: int | None) -> list[WebhookHeader]:
    """The last attempt's headers as a delivery shows them (the signature abbreviated)."""
    sent = [("content-type", "application/json"), ("webhook-id", webhook_id)]
    if timestamp is not None:
        sent += [("webhook-timestamp", str(timestamp)), ("webhook-signature", "v1,…")]
    return [WebhookHeader(name=name, value=value) for name, value in sent]


@strawberry.type(description="One event to one endpoint, with its last attempt's request and response.")
class WebhookDelivery(Node):
    endpoint_id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="The event's ID, also the webhook-id header.")
    event_type: str
    status: WebhookDeliveryStatus
    attempts: int
    manual: bool = strawberry.field(description="A resend asked for by a person.")
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = strawberry.field(description="The next retry, while PENDING.")
    delivered_at: datetime | None
    response_status: int | None
    latency_ms: int | None
    error: str | None
    request_headers: list[WebhookHeader] = strawberry.field(
        description="The last attempt's headers (the signature abbreviated).")
    request_body: str
    response_body: str | None = strawberry.field(description="The receiver's answer, truncated to 2000 characters.")

    @classmethod
    def from_row(cls, row: DeliveryRow) -> "WebhookDelivery":
        return cls(**columns.values(
            cls, row, id=to_global_id("WebhookDelivery", row.id), endpoint_id=to_global_id("WebhookEndpoint", row.endpoint_id),
            event_id=strawberry.ID(row.webhook_id), next_attempt_at=row.next_attempt_at if row.status == "PENDING" else None,
            error=row.last_error, request_headers=request_headers(row.webhook_id, row.request_timestamp),
            request_body=row.payload))


@strawberry.type
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(description="The signing secret: returned by create and rotate only.")
    user_errors: list[UserError]


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None
    user_errors: list[UserError]


# What the planner reads for the endpoint (server.planner): its plain column fields (derived from the
# attributes, server.schema.columns); the secret's hint decrypted
# in Python as the resolver does (server.domain.webhooks.endpoints.hint_of).
plan.declare(WebhookEndpoint, EndpointRow,
             secretHint=plan.Derived(lambda env, ciphertext: hint_of(ciphertext, env.settings.secret_key),
                                     "secret_ciphertext"))
plan.plannable("WebhookHeader", name=plan.ByRoot(), value=plan.ByRoot())  # built by WebhookDelivery.requestHeaders
# A delivery: its plain column fields derived; the fields from_row computes, as it computes them.
plan.declare(
    WebhookDelivery, DeliveryRow, endpointId=plan.GlobalId("WebhookEndpoint", "endpoint_id"),
    eventId=plan.Column("webhook_id"),
    nextAttemptAt=plan.Derived(lambda env, status, at: plan.iso_time(at) if status == "PENDING" else None, "status",
                               plan.Input(lambda source, parent, actor: plan.utc_text(source.c.next_attempt_at))),
    error=plan.Column("last_error"),
    requestHeaders=plan.Derived(lambda env, webhook_id, timestamp: request_headers(webhook_id, timestamp),
                                "webhook_id", "request_timestamp"),
    requestBody=plan.Column("payload"))
