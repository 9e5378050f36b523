"""Who is calling: bearer token (API clients) or session cookie (portal, customer admins).

A token is read in one statement on every request (no transaction, no ORM, no cache: a revoked
token fails on its next request). On PostgreSQL it runs on an asyncpg connection of the engine's
read pool (`server.db.engine.read_connection`), or on the one the caller already holds: `/graphql`
checks the token and runs a compiled runner's statement on one checkout (server.app). Elsewhere
(SQLite) through `read_rows`. Its last use is written to the minute, in its own statement through
SQLAlchemy, only when the minute has passed.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from server import clock
from server.auth.tokens import hash_token
from server.db.engine import asyncpg_sql, read_connection, read_rows
from server.db.models import ApiToken
from server.domain.actor import ANONYMOUS, Actor, ActorKind
from server.enums import Role

LAST_USED_RESOLUTION = timedelta(minutes=1)
_TOKEN = (select(ApiToken.id, ApiToken.partner_id, ApiToken.user_id, ApiToken.roles, ApiToken.last_used_at,
                 ApiToken.revoked_at)
          .where(ApiToken.token_hash == bindparam("hash")))
_TOUCH = update(ApiToken).where(ApiToken.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


async def _token_row(engine: AsyncEngine, token_hash: str, connection: Any = None) -> Any:
    if engine.dialect.driver != "asyncpg":
        rows = await read_rows(engine, _TOKEN, {"hash": token_hash})
        return rows[0] if rows else None
    sql, _, _ = asyncpg_sql(_TOKEN, engine.dialect)  # one parameter: the hash
    if connection is not None:
        return await connection.fetchrow(sql, token_hash)
    async with read_connection(engine) as driver:
        return await driver.fetchrow(sql, token_hash)


async def actor_from_bearer(engine: AsyncEngine, token: str, connection: Any = None) -> Actor | None:
    """The token's actor, or None when it is unknown or revoked. `connection`: an asyncpg connection
    of `engine`'s database to read it on (PostgreSQL), else one is checked out for it."""
    row = await _token_row(engine, hash_token(token), connection)
    if row is None or row["revoked_at"] is not None:
        return None
    now = clock.now()
    if row["last_used_at"] is None or now - row["last_used_at"] > LAST_USED_RESOLUTION:
        async with engine.begin() as conn:  # to the minute: a busy integration must not write on every call
            await conn.execute(_TOUCH, {"token_id": row["id"], "now": now})
    token_id, partner_id, user_id = row["id"], row["partner_id"], row["user_id"]
    roles = frozenset(Role(r) for r in row["roles"])
    if partner_id is None and roles == {Role.TRIALS_TEAM}:
        return Actor(kind=ActorKind.TRIALS_TEAM, user_id=user_id, roles=roles, token_id=token_id,
                     email=f"token-{token_id}@api")
    return Actor(kind=ActorKind.API_TOKEN, user_id=user_id, partner_id=partner_id, roles=roles,
                 token_id=token_id, email=f"token-{token_id}@api")


async def authenticate(request: Request) -> Actor:
    """The request's actor, or ANONYMOUS. A bad bearer token is ANONYMOUS too (never an error page)."""
    state = request.app.state
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await actor_from_bearer(state.read_engine, header[7:].strip()) or ANONYMOUS
    return ANONYMOUS
