"""Engine and sessions. One engine per process; one session (one transaction) per unit of work.

On PostgreSQL a pooled connection is checked without a round trip: SQLAlchemy's `pool_pre_ping`
sent BEGIN, `;` and ROLLBACK on every checkout (~0.6 ms a request, three of a compiled page's
fourteen round trips). A server that ends a connection (restart, `pg_terminate_backend`, idle
timeout) closes its socket, and asyncpg marks the connection closed as soon as the event loop
sees that: the checkout listener below refuses such a connection, and the pool opens a fresh one
(tests/db/test_recovery.py). `pool_recycle` replaces connections older than half an hour, so a
connection silently dropped by something in between (a NAT, a proxy) does not live for ever; a
statement that still meets a dead connection invalidates the pool (SQLAlchemy's disconnect
handling), so only the requests already under way on it fail.

PostgreSQL's JIT is off for our connections: the customers page's statement on 10,000 customers
is estimated above `jit_above_cost` once the tables have statistics, and compiling it cost ~72 ms
against ~19 ms of execution (bench.customers_page: list p95 121 ms with JIT, see its docstring).
Every statement here is a short OLTP one; none runs long enough for JIT to pay.

`read_rows`: the rows of a read-only Core statement of the hot path (the per-request session or
token lookup). On PostgreSQL the statement is compiled once and runs on the pooled asyncpg
connection itself, checked out with `raw_connection()`: SQLAlchemy's Connection and execution step
(events, greenlet hops, a shielded task on close, result processing) cost ~0.2 ms of CPU per
statement here against ~0.05 ms for the round trip itself. The rows are asyncpg records
(read by column name; timestamps come back UTC-aware and JSON decoded, as through SQLAlchemy).
No transaction is opened: one statement needs none. Elsewhere, an ordinary Core execution.

`read_connection` / `open_read_pool` / `close_read_pool`: plain asyncpg connections beside
SQLAlchemy's pool, for the statements of the hottest read paths (the bearer-token lookup, the
compiled runners). A checkout and return of SQLAlchemy's pooled connection outside SQLAlchemy's
Connection still goes through the pool's events, its reset-on-return and a greenlet to close
(~60 µs of CPU a pair), and asyncpg's own `Pool` returns a connection in a shielded task with a
timeout (~90 µs a pair, bench.compiled_page); `_ReadPool` is a list. The web app opens one per
process (`open_read_pool` at start-up; connections are made on first use, with the same JIT setting
and JSON decoding as the engine's) and closes it on shutdown; for an engine without one (the
worker, the CLI) `read_connection` is `driver_connection`. Its connections never hold session
state (no SET, LISTEN, advisory lock; one autocommit statement at a time), so a return sends
nothing (asyncpg's `Pool` sends `RESET ALL` and three more statements: a round trip per request);
one returned inside a transaction, broken or closed by the server is terminated, and a closed one
is replaced at checkout (asyncpg's flag, as `_refuse_closed`).

`read_sessionmaker` / `read_engine`: autocommit connections for read-only work of one or a few
statements (the auth lookup, compiled runners). In PostgreSQL's READ COMMITTED every statement
takes its own snapshot inside a transaction too, so leaving out BEGIN and ROLLBACK changes no
answer, and saves two round trips each time. Never write through them. SQLite keeps its
transactions (the embedded default is not the fast path).
"""
from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn

RECYCLE_SECONDS = 1800


#: Every PostgreSQL connection's settings (the engine's and the read pool's): no JIT for short
#: statements (see the module docstring).
SERVER_SETTINGS = {"jit": "off"}
#: The read pool's connections run every prepared statement on its generic plan, made once per
#: connection. Their statements (the bearer-token lookup, the read planner's, whose text depends only
#: on the query's shape) are prepared once and executed with new values: in PostgreSQL's `auto` mode a
#: page's generic plan is costed with `LIMIT $n` as 10 % of the table (1 000 rows of 10 000 for 51), so
#: it never looks cheaper than a custom plan and every execution was planned again (~0.5 ms of the
#: customers list's 1.8 ms on 1 000 customers, the same plan each time; bench.postgraphile (a), (c)).
READ_POOL_SETTINGS = {**SERVER_SETTINGS, "plan_cache_mode": "force_generic_plan"}
#: The read pool's asyncpg keeps (prepares once) a statement text up to this size; its default, 15 KiB,
#: left a planned page's one statement out (HomePage's is 26 KB): PostgreSQL parsed and planned it on
#: every call, 4-10 ms against 0.4 ms kept (bench.planner_ratio). SQLAlchemy's asyncpg dialect keeps
#: every statement it prepares whatever its size (the reference path's).
STATEMENT_CACHE_BYTES = 128 << 10


def make_engine(url: str, **kwargs) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # aiosqlite opens in deferred-transaction mode; we take the write lock at BEGIN so two
            # writers serialize instead of failing mid-transaction (SQLite's SKIP LOCKED stand-in).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # a request's read session (`read_session`) begins DEFERRED: under WAL it holds a snapshot,
            # not the write lock, so a write of the same request (an audited look-up, a denial's audit
            # row beside a read sibling) does not wait for it
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(SQLITE_DEFERRED) else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 20)   # a busy web process keeps its connections (no overflow churn)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_recycle", RECYCLE_SECONDS)
    if url.startswith("postgresql+asyncpg"):
        server_settings = kwargs.setdefault("connect_args", {}).setdefault("server_settings", {})
        for name, value in SERVER_SETTINGS.items():
            server_settings.setdefault(name, value)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection, _record, _proxy) -> None:
    """A connection the server has closed is replaced at checkout (no round trip: asyncpg's flag)."""
    if dbapi_connection._connection.is_closed():
        raise exc.DisconnectionError("connection closed by the server")


@lru_cache(maxsize=1024)
def asyncpg_sql(statement: Any, dialect: Any) -> tuple[str, list[str], dict[str, Any]]:
    """(SQL with $n placeholders, parameter names in order, the statement's own bound values),
    compiled once per statement."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), list(compiled.positiontup or []), dict(compiled.params)


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """The pool's asyncpg connection itself, for one statement without SQLAlchemy's Connection
    (see above): checked out by the pool (and its closed-connection check), terminated when the
    exchange broke or was cancelled (the next checkout replaces it; a server error leaves it
    usable), and returned through a greenlet: when the pool is full the overflow connection is
    closed, an await (outside one SQLAlchemy raises MissingGreenlet and the connection leaks)."""
    from asyncpg import PostgresError

    pooled = await engine.raw_connection()
    driver = pooled.driver_connection
    try:
        yield driver
    except BaseException as error:
        if not isinstance(error, PostgresError):
            driver.terminate()
        raise
    finally:
        await greenlet_spawn(pooled.close)


async def read_rows(engine: AsyncEngine, statement: Any, parameters: dict[str, Any] | None = None,
                    ) -> Sequence[Mapping[str, Any]]:
    """Rows (by column name) of a read-only Core statement (see above). Bound values are passed as they
    are (ints, strings, UTC-aware datetimes: no type's bind processing); `parameters` fills or
    overrides the statement's own `bindparam`s by name."""
    if engine.dialect.driver != "asyncpg":
        async with engine.connect() as conn:
            return [row._mapping for row in (await conn.execute(statement, parameters)).all()]
    sql, names, values = asyncpg_sql(statement, engine.dialect)
    if parameters:
        values = {**values, **parameters}
    async with driver_connection(engine) as driver:
        return await driver.fetch(sql, *(values[name] for name in names))


READ_POOL_SIZE = 10  # one web process's concurrent hot reads; SQLAlchemy's pool keeps the rest
#: How long a read checkout waits for a connection when all are lent (SQLAlchemy's `pool_timeout`).
CHECKOUT_TIMEOUT = 30.0


class _ReadPool:
    """asyncpg connections of one engine's database for read statements outside any transaction
    (see the module docstring): opened on first use, up to `READ_POOL_SIZE`, the most recently
    returned lent first. Not asyncpg's `Pool`: its return runs in a shielded task with a timeout
    and re-arms an idle timer, ~90 µs of CPU per checkout and return (bench.compiled_page), where
    this one is a list pop and append.

    A connection comes back broken (the statement was cancelled or the exchange failed: not a
    PostgreSQL error), closed by the server, or inside a transaction: it is terminated and a later
    checkout opens another. One older than `RECYCLE_SECONDS` is closed at checkout (as SQLAlchemy's
    `pool_recycle`). When all are lent, a checkout waits for the next return, at most
    `CHECKOUT_TIMEOUT` seconds (then TimeoutError, as SQLAlchemy's pool does after `pool_timeout`)."""

    def __init__(self, engine: AsyncEngine, size: int = READ_POOL_SIZE, timeout: float = CHECKOUT_TIMEOUT) -> None:
        self.options = engine.dialect.create_connect_args(engine.url)[1]
        self.size = size
        self.timeout = timeout
        self.idle: list[Any] = []
        self.opened_at: dict[Any, float] = {}  # every open connection, idle or lent
        self.opening = 0
        self.waiters: deque[asyncio.Future] = deque()
        self.closed = False

    async def acquire(self) -> Any:
        while self.idle:
            connection = self.idle.pop()
            if connection.is_closed():
                self._drop(connection)
            elif time.monotonic() - self.opened_at[connection] > RECYCLE_SECONDS:
                self.opened_at.pop(connection)
                try:
                    await connection.close(timeout=5)
                except Exception:  # noqa: BLE001 - it is being replaced anyway
                    connection.terminate()
            else:
                return connection
        while len(self.opened_at) + self.opening >= self.size:
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            try:
                async with asyncio.timeout(self.timeout):
                    connection = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():  # handed over as this checkout was cancelled
                    if waiter.result() is not None:
                        self.release(waiter.result())
                    else:
                        self._wake(None)
                raise
            if connection is not None:
                return connection
            # None: a connection was dropped, there is room to open one
        return await self._open()

    async def _open(self) -> Any:
        import asyncpg

        if self.closed:
            raise RuntimeError("the read pool is closed")
        self.opening += 1
        try:
            connection = await asyncpg.connect(**self.options, server_settings=dict(READ_POOL_SETTINGS),
                                               max_cacheable_statement_size=STATEMENT_CACHE_BYTES)
            try:
                await _json_codecs(connection)
            except BaseException:
                connection.terminate()
                raise
        except BaseException:
            self.opening -= 1
            self._wake(None)  # the room is free again: a waiting checkout tries in its turn
            raise
        self.opening -= 1
        self.opened_at[connection] = time.monotonic()
        return connection

    def release(self, connection: Any, broken: bool = False) -> None:
        if broken or self.closed or connection.is_closed() or connection.is_in_transaction():
            self._drop(connection)
            return
        if not self._wake(connection):
            self.idle.append(connection)

    def _drop(self, connection: Any) -> None:
        self.opened_at.pop(connection, None)
        connection.terminate()
        self._wake(None)  # room for one more: the next waiter opens it

    def _wake(self, connection: Any) -> bool:
        """Hand `connection` (None: room to open one) to the longest waiting checkout, if any."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return True
        return False

    async def close(self) -> None:
        self.closed = True
        idle, self.idle = self.idle, []
        for connection in idle:
            self.opened_at.pop(connection, None)
            try:
                await connection.close(timeout=5)
            except Exception:  # noqa: BLE001 - shutting down: a connection that will not close is dropped
                connection.terminate()
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("the read pool is closed"))


async def _json_codecs(connection: Any) -> None:
    """json and jsonb decoded as through the engine (SQLAlchemy's asyncpg dialect, json.loads)."""
    await connection.set_type_codec("json", encoder=str.encode, decoder=lambda b: json.loads(b.decode()),
                                    schema="pg_catalog", format="binary")
    await connection.set_type_codec("jsonb", encoder=lambda s: b"\x01" + s.encode(),
                                    decoder=lambda b: json.loads(b[1:].decode()), schema="pg_catalog", format="binary")


_READ_POOLS: weakref.WeakKeyDictionary[Any, _ReadPool] = weakref.WeakKeyDictionary()


def open_read_pool(engine: AsyncEngine) -> None:
    """Give `engine` (and every engine sharing its pool, `read_engine`'s) a read pool; PostgreSQL only."""
    if engine.dialect.driver == "asyncpg" and engine.pool not in _READ_POOLS:
        _READ_POOLS[engine.pool] = _ReadPool(engine)


async def close_read_pool(engine: AsyncEngine) -> None:
    read_pool = _READ_POOLS.pop(engine.pool, None)
    if read_pool is not None:
        await read_pool.close()


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """An asyncpg connection for read-only statements outside any transaction: from the engine's
    read pool when it has one (`open_read_pool`), else `driver_connection`. A PostgreSQL error
    leaves it usable; anything else (a broken exchange, a cancellation) terminates it."""
    read_pool = _READ_POOLS.get(engine.pool)
    if read_pool is None:
        async with driver_connection(engine) as driver:
            yield driver
        return
    from asyncpg import PostgresError

    connection = await read_pool.acquire()
    try:
        yield connection
    except BaseException as error:
        read_pool.release(connection, broken=not isinstance(error, PostgresError))
        raise
    read_pool.release(connection)


SQLITE_DEFERRED = "trialdesk_sqlite_deferred"


@lru_cache(maxsize=8)
def _deferred(engine: AsyncEngine) -> AsyncEngine:
    return engine.execution_options(**{SQLITE_DEFERRED: True})


def read_session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session of `sessionmaker` for reads only (a GraphQL request's read session): on SQLite its
    transactions begin DEFERRED (every other one IMMEDIATE: two writers serialize at BEGIN), so under
    WAL it never holds the write lock a unit of work of the same request then waits for."""
    engine = sessionmaker.kw.get("bind")
    if engine is None or engine.dialect.name != "sqlite":
        return sessionmaker()
    return sessionmaker(bind=_deferred(engine))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, autocommit on PostgreSQL (see the module docstring); the engine itself on SQLite."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(read_engine(engine), expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit on success, roll back on any exception."""
    async with sessionmaker() as session:
        async with session.begin():
            yield session
