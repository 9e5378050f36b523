"""Rows that make the system durable: deadlines, outbox, audit, idempotency, the test clock."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigId, Json, UTCDateTime


class Deadline(Base):
    """A future event ("time is data"): claimed by the sweep when due, applied once, marked done."""
    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(BigId)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The sweep reads only open rows in its order (due_at, id): O(rows claimed), not O(all rows),
        # nor O(rows due at the same instant). Every query by subject asks for open rows; marking a
        # row done adds an entry to neither index (0004).
        Index("ix_deadlines_open_due", "due_at", "id", postgresql_where=text("done_at IS NULL AND cancelled_at IS NULL"),
              sqlite_where=text("done_at IS NULL AND cancelled_at IS NULL")),
        Index("ix_deadlines_subject", "subject_type", "subject_id", "due_at",
              postgresql_where=text("done_at IS NULL AND cancelled_at IS NULL"),
              sqlite_where=text("done_at IS NULL AND cancelled_at IS NULL")),
    )


class OutboxEmail(Base):
    """A transactional email, written with the change that causes it; sent later exactly once."""
    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: event + recipient: a retried transaction cannot queue the same mail twice.
    dedup_key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    #: What the templates read: the sweep queues small rows and the sender renders (kind, locale,
    #: context) just before sending, then stores what it sent in subject and the bodies.
    context: Mapped[dict | None] = mapped_column(Json)
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    #: Assigned when queued: a resend after a crash carries the same Message-ID.
    message_id: Mapped[str] = mapped_column(String(200))
    #: No indexes on kind, recipient, customer_id, trial_id: nothing queries them in production;
    #: the sender reads ix_outbox_unsent, the dedup key its unique constraint.
    customer_id: Mapped[int | None] = mapped_column(BigId)
    trial_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
              sqlite_where=text("sent_at IS NULL AND failed_at IS NULL")),
    )


class AuditEvent(Base):
    """Who did what, when, with the state before and after (SPEC §9)."""
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int | None] = mapped_column(BigId)
    partner_id: Mapped[int | None] = mapped_column(BigId)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    before: Mapped[dict | None] = mapped_column(Json)
    after: Mapped[dict | None] = mapped_column(Json)
    #: The client's address for sign-ins (R-AUDIT-01), else NULL.
    client_address: Mapped[str | None] = mapped_column(String(64))
    #: NULL until the webhook fan-out has seen the event (server/domain/webhooks/fanout.py). Every
    #: writer (ORM, the sweep's and startTrial's SQL) leaves it NULL: no writer knows about webhooks.
    webhooks_dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The one way the trail is read: a customer's events, newest first (migration 0006).
        Index("ix_audit_events_customer_at", "customer_id", "at", "id"),
        # The partner's audit log, newest first, keyset pages on (at, id) (R-AUDIT-01, migration 0012).
        Index("ix_audit_events_partner_at", "partner_id", "at", "id"),
        # Its pages filtered by an actor or an action: one walk per name or action (migration 0019).
        Index("ix_audit_events_partner_actor_at", "partner_id", "actor", "at", "id"),
        Index("ix_audit_events_partner_action_at", "partner_id", "action", "at", "id"),
        # Retention: the oldest events first, deleted in batches (R-AUDIT-02, migration 0012).
        Index("ix_audit_events_at", "at", "id"),
        # "I'm interested in buying" clicks by partner and trial: the home page's list (migration 0008).
        Index("ix_audit_events_purchase_interest", "partner_id", "subject_id", "at",
              postgresql_where=text("action = 'trial.purchase_interest'"),
              sqlite_where=text("action = 'trial.purchase_interest'")),
        # The fan-out's queue: only the events it has not seen yet (migration 0009).
        Index("ix_audit_events_undispatched", "id", postgresql_where=text("webhooks_dispatched_at IS NULL"),
              sqlite_where=text("webhooks_dispatched_at IS NULL")),
    )


class IdempotencyKey(Base):
    """`clientMutationId`: the first answer, replayed for 24 h to the same caller."""
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    operation: Mapped[str] = mapped_column(String(80))
    response: Mapped[dict] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ClockState(Base):
    """The test clock's offset from real time; one row, shared by web, worker and CLI."""
    __tablename__ = "clock_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(BigId, default=0)


__all__ = ["Deadline", "OutboxEmail", "AuditEvent", "IdempotencyKey", "ClockState"]
