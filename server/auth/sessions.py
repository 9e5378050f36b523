"""Server-side portal sessions (table `web_sessions`) behind a signed cookie.

The cookie carries a random session id signed with SECRET_KEY (itsdangerous); the table stores
only its SHA-256, so a database leak opens no session. A session lasts `TTL` (absolute, not
sliding; a customer admin's: `CUSTOMER_IDLE` after its last request, within `TTL`) and dies early on logout, on password change (the user's other sessions) and when the
user is deactivated. Each session has its own CSRF token (DESIGN: `X-CSRF-Token`).

Every portal request reads its session, its user and the user's roles in one indexed statement
(`load_actor`; it was five round trips with the ORM), and the cookie's signature check is kept per
cookie value (`session_id_from_cookie`, ~18 µs of HMAC each time otherwise): neither caches an
answer the database gives, so a logout or a revocation still takes effect on the next request.

No Starlette here: the domain (user management) calls `revoke_for_user` in its own transaction.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.auth import signed_cookies
from server.db.engine import read_rows
from server.db.models import CustomerUser, RoleGrant, User, WebSession
from server.domain.core.actor import Actor, ActorKind
from server.enums import CustomerRole, Role

TTL = timedelta(hours=12)
#: A customer admin's session (a sign-in link or a consent link) ends after 15 minutes without a
#: request, like the magic link that opens it (a link forwarded or left open must not keep a customer's
#: org reachable for a partner's 12 hours); each request at least a minute after the last moves its
#: end (`_slide`).
CUSTOMER_IDLE = timedelta(minutes=15)
SLIDE_RESOLUTION = timedelta(minutes=1)
COOKIE = "td_session"


def session_hash(session_id: str) -> str:
    """What the table stores (and `revoke_for_user(keep_session_hash=)` takes)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def cookie_value(secret: str, session_id: str) -> str:
    return signed_cookies.sign(secret, "session", session_id)


@lru_cache(maxsize=4096)
def session_id_from_cookie(secret: str, value: str | None) -> str | None:
    return signed_cookies.unsign(secret, "session", value)


async def create(db: AsyncSession, *, user_id: int | None = None,
                 customer_user_id: int | None = None) -> tuple[str, WebSession]:
    """A new session (a fresh id on every sign-in: no session fixation). Returns (raw id, row)."""
    session_id = secrets.token_urlsafe(32)
    now = clock.now()
    row = WebSession(id=session_hash(session_id), user_id=user_id, customer_user_id=customer_user_id,
                     csrf_token=secrets.token_urlsafe(32), created_at=now,
                     expires_at=now + (CUSTOMER_IDLE if customer_user_id is not None else TTL))
    db.add(row)
    await db.flush()
    return session_id, row


async def load(db: AsyncSession, session_id: str) -> WebSession | None:
    """The live session for this id: None when unknown, expired or revoked."""
    row = await db.get(WebSession, session_hash(session_id))
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    return row


class _Person(NamedTuple):  # what is_customer_admin and customer_admin_actor read of a CustomerUser
    id: int
    customer_id: int
    role: str
    email: str
    locale: str
    moved_to_consumer_at: datetime | None


_SESSION_ACTOR = (
    select(WebSession.csrf_token, WebSession.expires_at, WebSession.revoked_at, WebSession.user_id,
           WebSession.customer_user_id, User.partner_id, User.email.label("user_email"),
           User.locale.label("user_locale"), User.active, RoleGrant.role.label("granted_role"),
           CustomerUser.customer_id, CustomerUser.role.label("person_role"), CustomerUser.email.label("person_email"),
           CustomerUser.locale.label("person_locale"), CustomerUser.moved_to_consumer_at)
    .select_from(WebSession)
    .outerjoin(User, User.id == WebSession.user_id)
    .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
    .outerjoin(CustomerUser, CustomerUser.id == WebSession.customer_user_id)
    .where(WebSession.id == bindparam("id")))


async def load_actor(engine, session_id: str) -> tuple[Actor, str] | None:
    """(actor, CSRF token) of a live session in one statement (a row per role grant, read with
    `server.db.engine.read_rows`); None when the session is unknown, expired or revoked, or its user
    may no longer sign in. The rules `load` applies to the session row, then R-ROLE-04/05 for who it
    stands for: an active partner or trials-team user, a customer admin."""
    rows = await read_rows(engine, _SESSION_ACTOR, {"id": session_hash(session_id)})
    if not rows:
        return None
    first = rows[0]
    if first["revoked_at"] is not None or first["expires_at"] <= clock.now():
        return None
    if first["user_id"] is not None:
        if first["user_email"] is None or not first["active"]:
            return None
        roles = frozenset(Role(row["granted_role"]) for row in rows if row["granted_role"] is not None)
        return partner_user_actor(first["user_id"], first["partner_id"], roles, first["user_email"],
                                  first["user_locale"]), first["csrf_token"]
    if first["customer_user_id"] is not None and first["person_email"] is not None:
        person = _Person(first["customer_user_id"], first["customer_id"], first["person_role"], first["person_email"],
                         first["person_locale"], first["moved_to_consumer_at"])
        if not is_customer_admin(person):
            return None
        if first["expires_at"] - clock.now() < CUSTOMER_IDLE - SLIDE_RESOLUTION:
            await _slide(engine, session_id)
        return customer_admin_actor(person), first["csrf_token"]
    return None


async def _slide(engine, session_id: str) -> None:
    """A customer admin's session lives CUSTOMER_IDLE past this request (never past its absolute TTL)."""
    async with engine.begin() as conn:
        await conn.execute(update(WebSession).where(WebSession.id == session_hash(session_id),
                                                    WebSession.created_at > clock.now() - TTL)
                           .values(expires_at=clock.now() + CUSTOMER_IDLE))


async def revoke(db: AsyncSession, session_id: str) -> None:
    await db.execute(update(WebSession).where(WebSession.id == session_hash(session_id), WebSession.revoked_at.is_(None))
                     .values(revoked_at=clock.now()))


async def revoke_for_user(db: AsyncSession, user_id: int, *, keep_session_hash: str | None = None) -> None:
    """Logout everywhere (password change keeps the session that made it; deactivation keeps none)."""
    stmt = update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    if keep_session_hash is not None:
        stmt = stmt.where(WebSession.id != keep_session_hash)
    await db.execute(stmt.values(revoked_at=clock.now()))


async def user_actor(db: AsyncSession, user: User) -> Actor:
    """Partner users act for their partner; a trials-team user (no partner) is TRIALS_TEAM (R-ROLE-05)."""
    roles = frozenset(Role(r) for r in await db.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user.id)))
    return partner_user_actor(user.id, user.partner_id, roles, user.email, user.locale)


def partner_user_actor(user_id: int, partner_id: int | None, roles: frozenset[Role], email: str,
                       locale: str) -> Actor:
    kind = ActorKind.TRIALS_TEAM if partner_id is None and Role.TRIALS_TEAM in roles else ActorKind.PARTNER_USER
    return Actor(kind=kind, user_id=user_id, partner_id=partner_id, roles=roles, email=email, locale=locale)


def is_customer_admin(person: CustomerUser) -> bool:
    """R-ROLE-04: only admins of a customer org sign in here; released users have moved away (R-TIME-05)."""
    return person.role in (CustomerRole.FULL_ADMIN, CustomerRole.ADMIN) and person.moved_to_consumer_at is None


def customer_admin_actor(person: CustomerUser) -> Actor:
    return Actor(kind=ActorKind.CUSTOMER_ADMIN, customer_id=person.customer_id, customer_user_id=person.id,
                 customer_full_admin=person.role == CustomerRole.FULL_ADMIN, email=person.email,
                 locale=person.locale)
