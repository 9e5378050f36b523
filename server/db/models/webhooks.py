"""Webhook endpoints and their deliveries. The events themselves are the audit events
(server/domain/webhooks/events.py): `audit_events.webhooks_dispatched_at` says the fan-out has seen one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigId, Json, UTCDateTime


class WebhookEndpoint(Base):
    """A partner's URL that hears about its customers' trials (event types it wants, a secret)."""
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner_orgs.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list] = mapped_column(Json)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Why it was disabled by the system (None: enabled, or disabled by a person).
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    #: "v1." + the secret encrypted with a key derived from SECRET_KEY (server/domain/webhooks/secrets.py).
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    #: Deliveries that used up their retries in a row, without a success between (disables at 3).
    failed_in_row: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event to one endpoint: the signed POST, retried with backoff until a 2xx or the schedule ends."""
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    #: The audit event this delivers (the event's global ID is built from it).
    event_id: Mapped[int] = mapped_column(BigId)
    event_type: Mapped[str] = mapped_column(String(60))
    #: `webhook-id`: the same on every attempt and on a resend, so receivers dedupe.
    webhook_id: Mapped[str] = mapped_column(String(100))
    #: The exact body signed and sent (JSON text).
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A worker is sending it until then (a killed worker's lease runs out and another sends it).
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last attempt's `webhook-timestamp` (seconds), to show the request as sent.
    request_timestamp: Mapped[int | None] = mapped_column(BigId)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A resend asked for by a person (redeliverWebhook) rather than the fan-out.
    manual: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # The sender reads pending rows in event order; the log reads an endpoint's newest; the
        # claim's "an earlier one of this endpoint is in flight" probe reads only leased rows (a
        # handful), never the endpoint's delivered history.
        Index("ix_webhook_deliveries_pending", "id", postgresql_where=text("status = 'PENDING'"),
              sqlite_where=text("status = 'PENDING'")),
        Index("ix_webhook_deliveries_leased", "endpoint_id", "id", postgresql_where=text("leased_until IS NOT NULL"),
              sqlite_where=text("leased_until IS NOT NULL")),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )


__all__ = ["WebhookEndpoint", "WebhookDelivery"]
