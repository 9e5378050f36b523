"""`clientMutationId`: the same key (per caller) replays the first answer for 24 hours.

The answer is stored in the same transaction as the change it describes, so a key is remembered
exactly when its change committed. Decision: answers with userErrors changed nothing and are not
stored; a retry is evaluated afresh. Two concurrent requests with one key: the second one's insert
of the key fails (primary key), its transaction rolls back and it replays the first answer.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import IdempotencyKey
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.enums import ErrorCode

TTL = timedelta(hours=24)
MAX_KEY = 200


def check_key(key: str) -> None:
    if not key.strip() or len(key) > MAX_KEY:
        raise DomainError(ErrorCode.INVALID_INPUT, f"clientMutationId must be 1–{MAX_KEY} characters.",
                          "clientMutationId")


async def replay(db: AsyncSession, actor: Actor, key: str, operation: str) -> dict[str, Any] | None:
    """The stored answer for this caller's key, or None."""
    check_key(key)
    row = await db.scalar(select(IdempotencyKey).where(IdempotencyKey.scope == actor.label, IdempotencyKey.key == key,
                                                       IdempotencyKey.expires_at > clock.now()))
    if row is None:
        return None
    if row.operation != operation:
        raise DomainError(ErrorCode.INVALID_INPUT, "This clientMutationId was used for another operation.",
                          "clientMutationId")
    return row.response


async def remember(db: AsyncSession, actor: Actor, key: str, operation: str, response: dict[str, Any]) -> None:
    """Store the answer; an expired row with the same key is replaced. Flushes, so a concurrent twin
    fails here (IntegrityError) before it commits."""
    old = await db.get(IdempotencyKey, (actor.label, key))
    if old is not None:
        await db.delete(old)
        await db.flush()
    now = clock.now()
    db.add(IdempotencyKey(scope=actor.label, key=key, operation=operation, response=response, created_at=now,
                          expires_at=now + TTL))
    await db.flush()
