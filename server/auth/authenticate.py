"""Who is calling: bearer token (API clients) or session cookie (portal, customer admins).

A token acts as the user it was made for (R-ROLE-02): the actor carries that user's email,
locale, partner and *current* roles, read with the token, so `viewer` and every permission check
answer as they do for the user's session. The roles a token was created with are a ceiling
(`createApiToken` may narrow a token to some of its user's roles): a token holds the roles its user
holds now that are also among its own. A token of a deactivated user, or one left with no role,
authenticates nobody (as a revoked token). Its own name and last use stay on the token's row.

A token is read in one statement on every request (no transaction, no ORM, no cache: a revoked
token fails on its next request). On PostgreSQL it runs on an asyncpg connection of the engine's
read pool (`server.db.engine.read_connection`), or on the one the caller already holds: `/graphql`
checks the token and runs a compiled runner's statement on one checkout (server.app). Elsewhere
(SQLite) through `read_rows`. Its last use is written to the minute, in its own statement through
SQLAlchemy, only when the minute has passed.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from server import clock
from server.auth.sessions import partner_user_actor
from server.auth.tokens import hash_token
from server.db.engine import asyncpg_sql, read_connection, read_rows
from server.db.models import ApiToken, RoleGrant, User
from server.domain.core.actor import ANONYMOUS, Actor, ActorKind
from server.enums import Role

LAST_USED_RESOLUTION = timedelta(minutes=1)
#: The token, its user and the user's role grants: a row per grant (as the session's `load_actor`).
_TOKEN = (select(ApiToken.id, ApiToken.user_id, ApiToken.roles, ApiToken.last_used_at, ApiToken.revoked_at,
                 User.partner_id, User.email, User.locale, User.active, RoleGrant.role.label("granted_role"))
          .select_from(ApiToken)
          .outerjoin(User, User.id == ApiToken.user_id)
          .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
          .where(ApiToken.token_hash == bindparam("hash")))
_TOUCH = update(ApiToken).where(ApiToken.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


async def _token_rows(engine: AsyncEngine, token_hash: str, connection: Any = None) -> Any:
    if engine.dialect.driver != "asyncpg":
        return await read_rows(engine, _TOKEN, {"hash": token_hash})
    sql, _, _ = asyncpg_sql(_TOKEN, engine.dialect)  # one parameter: the hash
    if connection is not None:
        return await connection.fetch(sql, token_hash)
    async with read_connection(engine) as driver:
        return await driver.fetch(sql, token_hash)


#: token_actor's arguments -> its (frozen) Actor: built once per token and what its row says, not
#: per request (the row is still read on every request). Emptied when it passes 1024 entries.
_ACTORS: dict[tuple, Actor] = {}


def token_actor(token_id: int, user_id: int, partner_id: int | None, roles: frozenset[Role], email: str,
                locale: str) -> Actor:
    """The user's actor (`sessions.partner_user_actor`), marked as coming through token `token_id`:
    a trials-team user's token is TRIALS_TEAM, a partner user's is API_TOKEN (a partner actor that
    the portal's pages, made for browsers, do not take)."""
    key = (token_id, user_id, partner_id, roles, email, locale)
    cached = _ACTORS.get(key)
    if cached is not None:
        return cached
    actor = partner_user_actor(user_id, partner_id, roles, email, locale)
    kind = ActorKind.TRIALS_TEAM if actor.kind is ActorKind.TRIALS_TEAM else ActorKind.API_TOKEN
    actor = replace(actor, kind=kind, token_id=token_id)
    if len(_ACTORS) >= 1024:
        _ACTORS.clear()
    _ACTORS[key] = actor
    return actor


async def actor_from_bearer(engine: AsyncEngine, token: str, connection: Any = None) -> Actor | None:
    """The token's actor, or None when it is unknown or revoked, its user is deactivated or it holds
    no role its user still holds. `connection`: an asyncpg connection of `engine`'s database to read
    it on (PostgreSQL), else one is checked out for it."""
    rows = await _token_rows(engine, hash_token(token), connection)
    if not rows:
        return None
    row = rows[0]
    if row["revoked_at"] is not None or row["email"] is None or not row["active"]:
        return None
    granted = {r["granted_role"] for r in rows if r["granted_role"] is not None}
    roles = frozenset(Role(r) for r in row["roles"] if r in granted)
    if not roles:
        return None
    now = clock.now()
    if row["last_used_at"] is None or now - row["last_used_at"] > LAST_USED_RESOLUTION:
        async with engine.begin() as conn:  # to the minute: a busy integration must not write on every call
            await conn.execute(_TOUCH, {"token_id": row["id"], "now": now})
    return token_actor(row["id"], row["user_id"], row["partner_id"], roles, row["email"], row["locale"])


async def authenticate(request: Request) -> Actor:
    """The request's actor, or ANONYMOUS. A bad bearer token is ANONYMOUS too (never an error page)."""
    state = request.app.state
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await actor_from_bearer(state.read_engine, header[7:].strip()) or ANONYMOUS
    return ANONYMOUS
