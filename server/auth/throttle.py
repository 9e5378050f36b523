"""Login throttling (table `login_attempts`): the attacker is slowed, the owner is not locked out.

Rule (written down here, SPEC is silent: a lockout must not be a weapon, i.e. nobody may lock an
owner out of their account by failing on purpose), like the big identity providers' smart lockout:
- one client (IP address) failing `ACCOUNT_LIMIT` times on one account within `WINDOW` is locked
  out of that account for `LOCKOUT`; the owner on another client is not;
- one client failing `IP_LIMIT` times on any accounts is locked out for `LOCKOUT` (a password spray);
- an account failing `BACKOFF_AFTER` times from any clients (a distributed guess) backs off: each
  further failure doubles the wait before the next attempt (1 s, 2 s, 4 s … at most `LOCKOUT`),
  except on a familiar device (a browser that signed in to that account before: `signin.familiar`).
Unknown emails are counted exactly like known ones, and a throttled attempt answers the same message
whatever the password, so nothing reveals which emails exist. A success clears the account's and that
client's counters (not the client's spray counter).
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
BACKOFF_AFTER = 10
LOCKED_MESSAGE = "Too many failed sign-ins. Wait 15 minutes and try again."


def _account(email: str) -> str:
    return email.strip().lower()[:320]


def keys(email: str, ip: str | None, *, familiar: bool = False) -> list[str]:
    """The counters an attempt on `email` from `ip` reads: the account's (unless on a familiar
    device), this client's on this account, this client's on all accounts."""
    found = [] if familiar else [f"account:{_account(email)}"]
    if ip:
        found += [f"client:{_account(email)}|{ip[:64]}", f"ip:{ip[:64]}"]
    return found


async def locked(db: AsyncSession, email: str, ip: str | None, *, familiar: bool = False) -> bool:
    now = clock.now()
    for key in keys(email, ip, familiar=familiar):
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
    for key in keys(email, ip):
        row = await _counted(db, key, now)
        if key.startswith("account:"):
            if row.failures >= BACKOFF_AFTER:
                row.locked_until = now + min(timedelta(seconds=2 ** (row.failures - BACKOFF_AFTER)), LOCKOUT)
        elif row.failures >= (ACCOUNT_LIMIT if key.startswith("client:") else IP_LIMIT):
            row.locked_until = now + LOCKOUT
            row.window_start, row.failures = now, 0


async def clear_account(db: AsyncSession, email: str, ip: str | None = None) -> None:
    """After a success: the account's counter and this client's on it."""
    await db.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(keys(email, ip)[:2])))


def _expired(window_start: datetime, now: datetime) -> bool:
    return now - window_start > WINDOW
