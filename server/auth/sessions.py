"""Server-side portal sessions (table `web_sessions`) behind a signed cookie.

The cookie carries a random session id signed with SECRET_KEY (itsdangerous); the table stores
only its SHA-256, so a database leak opens no session. A session lasts `TTL` (absolute, not
sliding) and dies early on logout, on password change (the user's other sessions) and when the
user is deactivated. Each session has its own CSRF token (DESIGN: `X-CSRF-Token`).

No Starlette here: the domain (user management) calls `revoke_for_user` in its own transaction.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.auth import signed_cookies
from server.db.models import CustomerUser, RoleGrant, User, WebSession
from server.domain.actor import Actor, ActorKind
from server.enums import CustomerRole, Role

TTL = timedelta(hours=12)
COOKIE = "td_session"


def session_hash(session_id: str) -> str:
    """What the table stores (and `revoke_for_user(keep_session_hash=)` takes)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def cookie_value(secret: str, session_id: str) -> str:
    return signed_cookies.sign(secret, "session", session_id)


def session_id_from_cookie(secret: str, value: str | None) -> str | None:
    return signed_cookies.unsign(secret, "session", value)


async def create(db: AsyncSession, *, user_id: int | None = None,
                 customer_user_id: int | None = None) -> tuple[str, WebSession]:
    """A new session (a fresh id on every sign-in: no session fixation). Returns (raw id, row)."""
    session_id = secrets.token_urlsafe(32)
    now = clock.now()
    row = WebSession(id=session_hash(session_id), user_id=user_id, customer_user_id=customer_user_id,
                     csrf_token=secrets.token_urlsafe(32), created_at=now, expires_at=now + TTL)
    db.add(row)
    await db.flush()
    return session_id, row


async def load(db: AsyncSession, session_id: str) -> WebSession | None:
    """The live session for this id: None when unknown, expired or revoked."""
    row = await db.get(WebSession, session_hash(session_id))
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    return row


async def revoke(db: AsyncSession, session_id: str) -> None:
    await db.execute(update(WebSession).where(WebSession.id == session_hash(session_id), WebSession.revoked_at.is_(None))
                     .values(revoked_at=clock.now()))


async def revoke_for_user(db: AsyncSession, user_id: int, *, keep_session_hash: str | None = None) -> None:
    """Logout everywhere (password change keeps the session that made it; deactivation keeps none)."""
    stmt = update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    if keep_session_hash is not None:
        stmt = stmt.where(WebSession.id != keep_session_hash)
    await db.execute(stmt.values(revoked_at=clock.now()))


async def actor_for(db: AsyncSession, row: WebSession) -> Actor | None:
    """The actor a live session stands for; None when its user may no longer sign in."""
    if row.user_id is not None:
        user = await db.get(User, row.user_id)
        if user is None or not user.active:
            return None
        return await user_actor(db, user)
    if row.customer_user_id is not None:
        person = await db.get(CustomerUser, row.customer_user_id)
        if person is None or not is_customer_admin(person):
            return None
        return customer_admin_actor(person)
    return None


async def user_actor(db: AsyncSession, user: User) -> Actor:
    """Partner users act for their partner; a trials-team user (no partner) is TRIALS_TEAM (R-ROLE-05)."""
    roles = frozenset(Role(r) for r in await db.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user.id)))
    kind = ActorKind.TRIALS_TEAM if user.partner_id is None and Role.TRIALS_TEAM in roles else ActorKind.PARTNER_USER
    return Actor(kind=kind, user_id=user.id, partner_id=user.partner_id, roles=roles, email=user.email,
                 locale=user.locale)


def is_customer_admin(person: CustomerUser) -> bool:
    """R-ROLE-04: only admins of a customer org sign in here; released users have moved away (R-TIME-05)."""
    return person.role in (CustomerRole.FULL_ADMIN, CustomerRole.ADMIN) and person.moved_to_consumer_at is None


def customer_admin_actor(person: CustomerUser) -> Actor:
    return Actor(kind=ActorKind.CUSTOMER_ADMIN, customer_id=person.customer_id, customer_user_id=person.id,
                 customer_full_admin=person.role == CustomerRole.FULL_ADMIN, email=person.email,
                 locale=person.locale)
