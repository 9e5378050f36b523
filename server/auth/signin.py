"""Signing in and out: partner and trials-team users by password, customer admins by a magic link.

One message for every failed password sign-in (unknown email, wrong password, deactivated user,
no password set yet), so the form never tells which emails exist; throttled per client, per account
and client, and per account with backoff, never locking the owner's familiar device out (`throttle`). Magic links (purpose "magic") are signed, bound to the email, valid 15 minutes and
single-use (`links.consume`); asking for one never reveals whether the email belongs to an admin.
"""
from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import links, passwords, sessions, signed_cookies, throttle
from server.db.models import CustomerUser, User
from server.domain.core import audit
from server.domain.notifications import outbox
from server.domain.core.actor import Actor, ActorKind
from server.domain.notifications.outbox import EmailKind

FAILED_MESSAGE = "Wrong email or password."
MAGIC_PURPOSE = "magic"
MAGIC_MAX_AGE = 15 * 60


class SignInError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clean_email(email: str) -> str:
    """The email as looked up and counted (throttle keys): no U+0000, which PostgreSQL text cannot hold."""
    return (email or "").replace("\x00", "").strip().lower()[:320]


#: A browser that signed in to an account before carries this cookie (the account's email, hashed and
#: signed): the account's backoff (`throttle`) does not apply to it, so a distributed guess at the
#: password does not lock its owner out.
FAMILIAR_COOKIE = "td_familiar"
FAMILIAR_MAX_AGE = 180 * 24 * 3600


def familiar_value(secret: str, email: str) -> str:
    return signed_cookies.sign(secret, "familiar", hashlib.sha256(clean_email(email).encode()).hexdigest())


def familiar(secret: str, cookie: str | None, email: str) -> bool:
    """Whether the browser's familiar-device cookie names this account."""
    known = signed_cookies.unsign(secret, "familiar", cookie)
    return known is not None and hmac.compare_digest(known, hashlib.sha256(clean_email(email).encode()).hexdigest())


async def with_password(db: AsyncSession, email: str, password: str, ip: str | None, *,
                        familiar_device: bool = False) -> tuple[str, Actor]:
    """(new session id, actor) for a partner or trials-team user, or SignInError. Failures are recorded in
    `db` (the caller commits either way, so the count survives the refusal)."""
    email = clean_email(email)
    if await throttle.locked(db, email, ip, familiar=familiar_device):
        passwords.burn(password or "")
        raise SignInError(throttle.LOCKED_MESSAGE)
    user = await db.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    ok = passwords.verify(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        await throttle.record_failure(db, email, ip)
        record_failed_sign_in(db, user, ip)
        if await throttle.locked(db, email, ip, familiar=familiar_device):
            raise SignInError(throttle.LOCKED_MESSAGE)
        raise SignInError(FAILED_MESSAGE)
    await throttle.clear_account(db, email, ip)
    if passwords.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session_id, row = await sessions.create(db, user_id=user.id)
    actor = await sessions.user_actor(db, user)
    audit.record(db, actor, "session.signed_in", "User", user.id, after={"method": "password"}, client_address=ip)
    return session_id, actor


def record_failed_sign_in(db: AsyncSession, user: User | None, ip: str | None) -> None:
    """R-AUDIT-01: a failed password sign-in to a known account is an audit event of its partner,
    with the client's address (an unknown email is no one's event: nothing of it is stored)."""
    if user is None:
        return
    person = Actor(kind=ActorKind.TRIALS_TEAM if user.partner_id is None else ActorKind.PARTNER_USER, user_id=user.id,
                   partner_id=user.partner_id, email=user.email)
    audit.record(db, person, "session.sign_in_failed", "User", user.id, client_address=ip,
                 after={"reason": "deactivated" if not user.active else "wrong_password"})


async def sign_out(db: AsyncSession, session_id: str | None) -> None:
    if session_id:
        await sessions.revoke(db, session_id)


def landing_after_link(path: str | None) -> str | None:
    """Where a sign-in link may lead after signing in: a page of the customer admin's own area
    (`/my…`, e.g. the Buy page a warning email links to, R-TIME-01), else None (`/my`)."""
    path = (path or "").strip()
    own_area = path == "/my" or path.startswith(("/my/", "/my?"))
    if (not own_area or path.startswith("/my/login") or "\\" in path or "//" in path or len(path) > 300
            or not all(32 < ord(ch) < 127 for ch in path)):
        return None
    return path


async def request_magic_link(db: AsyncSession, secret: str, base_url: str, email: str, next_path: str | None = None) -> None:
    """Queue a sign-in link when `email` is a customer admin; do nothing visible otherwise. The link
    leads to `next_path` after signing in when it is a page of the customer admin's area."""
    email = clean_email(email)
    person = await db.scalar(select(CustomerUser).where(func.lower(CustomerUser.email) == email)) if email else None
    if person is None or not sessions.is_customer_admin(person):
        return
    payload = {"email": person.email, "cu": person.id}
    if (landing := landing_after_link(next_path)) is not None:
        payload["next"] = landing
    token = links.sign(secret, MAGIC_PURPOSE, payload)
    jti = links.verify(secret, MAGIC_PURPOSE, token, MAGIC_MAX_AGE)["jti"]
    await outbox.enqueue(db, EmailKind.MAGIC_LINK, person.email, f"magic:{jti}",
                         {"link": f"{base_url.rstrip('/')}/auth/magic/{token}", "minutes": MAGIC_MAX_AGE // 60},
                         locale=person.locale, customer_id=person.customer_id)


async def with_magic_link(db: AsyncSession, secret: str, token: str) -> tuple[str, str]:
    """(session id, where to land) for the customer admin the link was made for; LinkError when
    invalid, expired or used."""
    payload = links.verify(secret, MAGIC_PURPOSE, token, MAGIC_MAX_AGE)
    person = await db.get(CustomerUser, payload.get("cu")) if isinstance(payload.get("cu"), int) else None
    if person is None or person.email != payload.get("email") or not sessions.is_customer_admin(person):
        raise links.LinkError("invalid")
    await links.consume(db, payload["jti"])
    return await customer_admin_session(db, person.id), landing_after_link(payload.get("next")) or "/my"


async def customer_admin_session(db: AsyncSession, customer_user_id: int) -> str:
    """A new session for a customer admin (magic link, consent link). LinkError("invalid") when the
    person is not (or no longer) a customer admin."""
    person = await db.get(CustomerUser, customer_user_id)
    if person is None or not sessions.is_customer_admin(person):
        raise links.LinkError("invalid")
    session_id, _ = await sessions.create(db, customer_user_id=person.id)
    audit.record(db, sessions.customer_admin_actor(person), "session.signed_in", "CustomerUser", person.id,
                 customer_id=person.customer_id, after={"method": "link"})
    return session_id
