"""The webhook fan-out: audit events → one delivery per subscribed endpoint.

The audit events the fan-out has not seen (`webhooks_dispatched_at IS NULL`, read through the
partial index `ix_audit_events_undispatched`) are claimed in id order, a batch at a time: FOR
UPDATE SKIP LOCKED on PostgreSQL (two workers never take the same event), BEGIN IMMEDIATE on
SQLite. In the same transaction each event whose action is in the catalogue
(webhook_events.EVENT_TYPES) gets a delivery for every enabled endpoint of its partner that
subscribes to its type and existed when it happened, and every claimed event is marked dispatched.
A crash rolls the batch back whole; the next run claims it again. No id cursor: a transaction
that commits after a later one (lower ids, visible later) is still found by its NULL mark.

The event's partner is the audit event's `partner_id`, or for an event written without one the
customer's managing partner: a partner B endpoint never hears partner A's customers (R-ORG-02).
Events of other actions (sign-ins, users, tokens) are marked and send nothing.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import AuditEvent, CustomerOrg, WebhookDelivery, WebhookEndpoint
from server.domain.timeline import set_based
from server.domain.webhooks import events as webhook_events

BATCH = 1000


def delivery_row(endpoint_id: int, audit_id: int, event_type: str, body: str, now, *, manual: bool = False) -> dict:
    return dict(endpoint_id=endpoint_id, event_id=audit_id, event_type=event_type,
                webhook_id=webhook_events.event_id(audit_id), payload=body, status="PENDING", attempts=0,
                next_attempt_at=now, created_at=now, manual=manual)


async def fan_out(db: AsyncSession, limit: int = BATCH) -> int:
    """Claim up to `limit` undispatched audit events, make their deliveries, mark them; returns how
    many events were claimed (0: nothing left)."""
    a = AuditEvent.__table__.c
    stmt = (select(a.id, a.at, a.action, a.subject_type, a.subject_id, a.partner_id, a.customer_id, a.before, a.after)
            .where(a.webhooks_dispatched_at.is_(None)).order_by(a.id).limit(limit))
    if set_based.on_postgres(db):
        stmt = stmt.with_for_update(skip_locked=True)
    events = (await db.execute(stmt)).all()
    if not events:
        return 0
    now = clock.now()
    relevant = [e for e in events if e.action in webhook_events.EVENT_TYPES]
    rows: list[dict] = []
    if relevant:
        managed = {e.customer_id for e in relevant if e.partner_id is None and e.customer_id is not None}
        managing = dict((await db.execute(select(CustomerOrg.id, CustomerOrg.managing_partner_id).where(
            set_based.among(db, CustomerOrg.id, managed)))).all()) if managed else {}
        partner_of = {e.id: e.partner_id if e.partner_id is not None else managing.get(e.customer_id) for e in relevant}
        partners = {p for p in partner_of.values() if p is not None}
        endpoints: dict[int, list] = {}
        if partners:
            for endpoint in (await db.execute(select(WebhookEndpoint.id, WebhookEndpoint.partner_id,
                                                     WebhookEndpoint.event_types, WebhookEndpoint.created_at).where(
                    set_based.among(db, WebhookEndpoint.partner_id, partners), WebhookEndpoint.enabled.is_(True))
                    .order_by(WebhookEndpoint.id))).all():
                endpoints.setdefault(endpoint.partner_id, []).append(endpoint)
        for event in relevant:
            event_type = webhook_events.EVENT_TYPES[event.action]
            listeners = [e for e in endpoints.get(partner_of[event.id], ())
                         if event_type in e.event_types and e.created_at <= event.at]
            if not listeners:
                continue
            body = webhook_events.payload(event.id, event_type, event.at, event.subject_type, event.subject_id,
                                          event.customer_id, event.before, event.after)
            rows += [delivery_row(e.id, event.id, event_type, body, now) for e in listeners]
    await set_based.insert_rows(db, WebhookDelivery.__table__, rows)
    await db.execute(update(AuditEvent.__table__).where(set_based.among(db, a.id, [e.id for e in events]))
                     .values(webhooks_dispatched_at=now))
    return len(events)
