"""Per-request GraphQL context: the actor, a read session, units of work and the loaders."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server import kept
from server.db.engine import read_session
from server.domain.core.actor import Actor
from server.settings import Settings

log = structlog.get_logger("graphql")


@dataclass
class Context:
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    actor: Actor
    request: Any = None
    redis: Any = None
    request_id: str | None = None
    _read_session: AsyncSession | None = None
    #: Read sessions set aside by a write (`after_write`), closed with the request.
    _retired: list[AsyncSession] = field(default_factory=list)
    loaders: dict[str, Any] = field(default_factory=dict)
    #: Set when a mutation committed, so jobs it queued are pushed after the commit.
    after_commit: list[Any] = field(default_factory=list)
    #: The sessionmaker writes go through (`unit_of_work`) when `sessionmaker` is the read pool's
    #: autocommit one (the read planner's contexts: an audited look-up it answers writes like the
    #: resolver, a denial's audit row, R-ROLE-02); None: `sessionmaker` writes.
    write_sessionmaker: async_sessionmaker[AsyncSession] | None = None

    async def db(self) -> AsyncSession:
        """The request's read session (one per request, closed by `close()`; on SQLite it begins
        DEFERRED: `read_session`)."""
        if self._read_session is None:
            self._read_session = read_session(self.sessionmaker)
        return self._read_session

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction for one mutation: committed on success, rolled back on any error (what the
        domain kept for that case, `server.kept`, is then written on its own)."""
        writes = self.write_sessionmaker or self.sessionmaker
        if writes is self.sessionmaker and _autocommit(writes):  # never write through the read pool's
            raise RuntimeError("a unit of work on the autocommit read sessionmaker: give the context its "
                               "write_sessionmaker")
        async with writes() as session:
            try:
                async with session.begin():
                    yield session
            except BaseException:
                await kept.after_rollback(session, writes)
                raise
            kept.after_commit(session)
        await self.after_write()

    async def actor_confirmed(self) -> bool:
        """Whether `actor` is the request's actor for sure, before anything is written in its name. Here
        always; the read planner's context may run for a bearer token's guessed actor
        (server.planner.execute.Reading)."""
        return True

    async def after_write(self) -> None:
        """Reads after a write must see it: the next read opens a new read session and the loaders
        forget what they hold (after a unit of work, and after a write that committed on its own).
        The old session is set aside, not rolled back: a query's root fields run concurrently, and a
        sibling of an audited look-up (`availableServices`, `existingOrganization` write an audit
        row) may be in the middle of a statement on it; it is closed with the request."""
        if self._read_session is not None:
            self._retired.append(self._read_session)
            self._read_session = None
        self.loaders.clear()

    def loader(self, name: str, factory):
        """A per-request DataLoader, created on first use."""
        if name not in self.loaders:
            self.loaders[name] = factory(self)
        return self.loaders[name]

    async def close(self) -> None:
        """Hand the read session's connection back. When a root field fails, graphql-core cancels its
        sibling fields, possibly in the middle of a statement on this session: asyncpg then closes the
        connection and the session's rollback fails. That connection is dropped from the pool
        (`invalidate`), and the answer stays the failed field's error, never a 500."""
        sessions = [*self._retired, *([self._read_session] if self._read_session is not None else [])]
        self._read_session, self._retired = None, []
        for session in sessions:
            try:
                await session.close()
            except Exception as error:  # noqa: BLE001 - a connection broken by a cancelled statement
                log.warning("read_session_dropped", error=repr(error))
                try:
                    await session.invalidate()
                except Exception:  # noqa: BLE001, S110 - already closed: nothing left to give back
                    pass


def _autocommit(sessionmaker: Any) -> bool:
    """Whether the sessionmaker's engine commits each statement (server.db.engine's read sessionmaker)."""
    engine = sessionmaker.kw.get("bind")
    return engine is not None and engine.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
