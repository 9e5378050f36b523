"""Login throttling (table `login_attempts`): failures counted per account and per client IP.

Rule (written down here, SPEC is silent): `ACCOUNT_LIMIT` failures for one email within `WINDOW`
lock that email for `LOCKOUT`; `IP_LIMIT` failures from one IP lock that IP the same way (higher,
since offices share an address). Unknown emails are counted exactly like known ones, and a locked
account answers the same message whatever the password, so nothing reveals which emails exist.
A success clears the account's counter (not the IP's).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import LoginAttempt

WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
IP_LIMIT = 30
LOCKED_MESSAGE = "Too many failed sign-ins. Wait 15 minutes and try again."


def keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    found = [(f"account:{email.strip().lower()[:320]}", ACCOUNT_LIMIT)]
    if ip:
        found.append((f"ip:{ip[:64]}", IP_LIMIT))
    return found


async def locked(db: AsyncSession, email: str, ip: str | None) -> bool:
    now = clock.now()
    for key, _ in keys(email, ip):
        row = await db.get(LoginAttempt, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return True
    return False


async def _counted(db: AsyncSession, key: str, now: datetime) -> LoginAttempt:
    """The key's row, locked, with this attempt counted in its window (a new window when the last ended)."""
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    await db.execute(insert(LoginAttempt).values(key=key, window_start=now, failures=0)
                     .on_conflict_do_nothing(index_elements=["key"]))
    row = await db.get(LoginAttempt, key, with_for_update=True, populate_existing=True)
    if _expired(row.window_start, now):
        row.window_start, row.failures = now, 0
    row.failures += 1
    return row


#: Sign-in links (`/my/login`): per address and per client within WINDOW; over either, no link.
LINKS_PER_ADDRESS = 3
LINKS_PER_CLIENT = 20


async def allow_link(db: AsyncSession, email: str, ip: str | None) -> bool:
    """Count a sign-in link request for the address and the client; False when either is over its
    limit. Counted alike whether or not the address is a customer admin's (the same work and the
    same answer: nothing tells which addresses exist)."""
    now = clock.now()
    rows = [(await _counted(db, f"link:{email.strip().lower()[:320]}", now), LINKS_PER_ADDRESS)]
    if ip:
        rows.append((await _counted(db, f"linkip:{ip[:64]}", now), LINKS_PER_CLIENT))
    return all(row.failures <= limit for row, limit in rows)


async def record_failure(db: AsyncSession, email: str, ip: str | None) -> None:
    now = clock.now()
    for key, limit in keys(email, ip):
        row = await _counted(db, key, now)
        if row.failures >= limit:
            row.locked_until = now + LOCKOUT
            row.window_start, row.failures = now, 0


async def clear_account(db: AsyncSession, email: str) -> None:
    await db.execute(delete(LoginAttempt).where(LoginAttempt.key == keys(email, None)[0][0]))


def _expired(window_start: datetime, now: datetime) -> bool:
    return now - window_start > WINDOW
