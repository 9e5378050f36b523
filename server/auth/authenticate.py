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

`/graphql`'s planned requests read the token in the planner's statement itself (`TokenCheck`: one
round trip a request): the statement is built for the actor the token had on its last request
(`TokenCheck.guess`) and the token's row comes back beside the answer, read in the same snapshot;
the endpoint checks it exactly as `actor_from_bearer` does (`actor_from_row`) and keeps the answer
only when the token still gives that actor, else the planner runs again for the actor it gives
(a revoked token: ANONYMOUS). A revocation takes effect on the next request, as before.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select, update
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


#: The token's row with its user's role grants in one array: the read `TokenCheck` sends with the planner's
#: statement (one row, or none for an unknown token).
_TOKEN_ROW = (select(ApiToken.id, ApiToken.user_id, ApiToken.roles, ApiToken.last_used_at, ApiToken.revoked_at,
                     User.partner_id, User.email, User.locale, User.active,
                     select(func.array_agg(RoleGrant.role)).where(RoleGrant.user_id == User.id)
                     .scalar_subquery().label("granted_roles"))
              .select_from(ApiToken)
              .outerjoin(User, User.id == ApiToken.user_id)
              .where(ApiToken.token_hash == bindparam("hash")))


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
    token_hash = hash_token(token)
    rows = await _token_rows(engine, token_hash, connection)
    granted = {r["granted_role"] for r in rows if r["granted_role"] is not None}
    return await _checked(engine, token_hash, rows[0] if rows else None, granted)


async def _checked(engine: AsyncEngine, token_hash: str, row: Any, granted: set[str] | list[str]) -> Actor | None:
    """The one check of a token's row (`actor_from_bearer`, `actor_from_row`); its last use recorded."""
    actor = None
    if row is not None and row["id"] is not None and row["revoked_at"] is None and row["email"] is not None \
            and row["active"]:
        roles = frozenset(Role(r) for r in row["roles"] if r in granted)
        if roles:
            now = clock.now()
            if row["last_used_at"] is None or now - row["last_used_at"] > LAST_USED_RESOLUTION:
                async with engine.begin() as conn:  # to the minute: a busy integration must not write on every call
                    await conn.execute(_TOUCH, {"token_id": row["id"], "now": now})
            actor = token_actor(row["id"], row["user_id"], row["partner_id"], roles, row["email"], row["locale"])
    if actor is None:
        _LAST.pop(token_hash, None)
    else:
        if len(_LAST) >= 1024 and token_hash not in _LAST:
            _LAST.clear()
        _LAST[token_hash] = actor
    return actor


#: A token's hash -> the actor it gave on its last request (`TokenCheck.guess`); only a hint of which
#: statement to build, never an answer: the token is read again with that statement.
_LAST: dict[str, Actor] = {}
_NOT_READ = object()


class TokenCheck:
    """The bearer token of a `/graphql` request, read in the planner's statement (server.planner.execute:
    `with_token`): `guess` is the actor it gave last time (the statement is built for it), `row` its
    row read with the statement (unset when no statement ran: `actor_from_row` reads it then)."""

    __slots__ = ("token_hash", "guess", "row")

    def __init__(self, token_hash: str, guess: Actor) -> None:
        self.token_hash = token_hash
        self.guess = guess
        self.row: Any = _NOT_READ

    @property
    def read(self) -> bool:
        return self.row is not _NOT_READ

    def with_token(self, sql: str, parameters: int) -> str:
        """`sql` (a statement of one row and column with parameters $1..$`parameters`) with the token's
        columns after its one; the token's hash is parameter `parameters + 1`."""
        key = (sql, parameters)
        combined = _COMBINED.get(key)
        if combined is None:
            if len(_COMBINED) >= 512:
                _COMBINED.clear()
            token_sql = re.sub(r"\$1\b", f"${parameters + 1}", _token_row_sql())
            combined = _COMBINED[key] = (f"SELECT ({sql}) AS planned, token.* FROM (SELECT 1) AS one "
                                         f"LEFT OUTER JOIN ({token_sql}) AS token ON true")
        return combined


_COMBINED: dict[tuple[str, int], str] = {}


@lru_cache(maxsize=1)
def _token_row_sql() -> str:
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    sql, _, _ = asyncpg_sql(_TOKEN_ROW, dialect())  # one parameter: the hash
    return sql


def token_check(token: str) -> TokenCheck | None:
    """The check of `token` to read with the planner's statement, or None when the token gave no actor
    on its last request here (then it is read first, `actor_from_bearer`)."""
    token_hash = hash_token(token)
    guess = _LAST.get(token_hash)
    return TokenCheck(token_hash, guess) if guess is not None else None


async def actor_from_row(engine: AsyncEngine, check: TokenCheck, connection: Any = None) -> Actor | None:
    """The token's actor from the row read with the planner's statement (as `actor_from_bearer`
    checks it), or read now when no statement read it."""
    if not check.read:
        rows = await _token_rows(engine, check.token_hash, connection)
        granted = {r["granted_role"] for r in rows if r["granted_role"] is not None}
        return await _checked(engine, check.token_hash, rows[0] if rows else None, granted)
    row = check.row
    granted = row["granted_roles"] if row is not None else None
    return await _checked(engine, check.token_hash, row, granted or ())


async def authenticate(request: Request) -> Actor:
    """The request's actor, or ANONYMOUS. A bad bearer token is ANONYMOUS too (never an error page)."""
    state = request.app.state
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await actor_from_bearer(state.read_engine, header[7:].strip()) or ANONYMOUS
    return ANONYMOUS
