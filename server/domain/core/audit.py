"""SPEC §9: every state change writes an audit event (who, what, when, before, after)."""
from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import AuditEvent
from server.domain.timeline import set_based
from server.domain.core.actor import Actor

log = structlog.get_logger("audit")


def event(actor: Actor, action: str, subject_type: str, subject_id: int | None, *,
          before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
          customer_id: int | None = None, partner_id: int | None = None) -> dict[str, Any]:
    """An audit event's column values (who, what, when, before, after)."""
    return dict(at=clock.now(), actor=actor.label, action=action, subject_type=subject_type, subject_id=subject_id,
                before=before, after=after, customer_id=customer_id,
                partner_id=partner_id if partner_id is not None else actor.partner_id)


def record(db: AsyncSession, actor: Actor, action: str, subject_type: str, subject_id: int | None, *,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           customer_id: int | None = None, partner_id: int | None = None,
           client_address: str | None = None) -> AuditEvent:
    """Add an audit event to the session (written with the change it records). `client_address`:
    the sign-ins' (R-AUDIT-01)."""
    audit_event = AuditEvent(**event(actor, action, subject_type, subject_id, before=before, after=after,
                                     customer_id=customer_id, partner_id=partner_id),
                             client_address=(client_address or None) and client_address[:64])
    db.add(audit_event)
    return audit_event


async def record_many(db: AsyncSession, events: list[dict[str, Any]]) -> None:
    """Write many `event()`s in one statement (the sweep's batches)."""
    await set_based.insert_rows(db, AuditEvent.__table__, events)


async def denied(sessionmaker, actor: Actor, action: str, detail: str = "") -> None:
    """R-ROLE-02: denials are logged. Written in its own transaction, since the denied one rolls back."""
    log.warning("permission_denied", actor=actor.label, action=action, detail=detail)
    async with sessionmaker() as db, db.begin():
        record(db, actor, "permission.denied", "action", None, after={"action": action, "detail": detail})
