"""Test setup: real databases and a real Redis, no mocks.

`TRIALDESK_TEST_BACKEND=postgres` runs against PostgreSQL (127.0.0.1:5432, a fresh database per
run, created from `test`) and the machine's Redis (127.0.0.1:6379); `sqlite` (the default) runs
against the embedded default: a SQLite file and an embedded redis-server. `make test` runs both.
Each test starts from empty tables (the device catalog stays).
"""
from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from server.db import migrate
from server.db.models import Base
from server.settings import Settings

BACKEND = os.environ.get("TRIALDESK_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get("TRIALDESK_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PG_REDIS_URL = os.environ.get("TRIALDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")
KEEP_TABLES = {"device_models"}
RUN_ID = uuid.uuid4().hex[:8]


def pytest_report_header(config):
    return f"trialdesk backend: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    """`slow` tests (long soak and crash loops) run only when asked for with `-m slow` (`make bench`
    does); `make test` runs their short forms. Deselected, so the summary says how many were left out."""
    if "slow" in (config.option.markexpr or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class MemoizedPasswordHasher:
    """The product's argon2id hasher (production parameters: 64 MiB, t=3, p=4), memoized in the test
    process: one `hash()` per password, one `verify()` per (hash, password) pair, each a real argon2
    computation the first time. Each costs ~250 ms of CPU (~0.6 s of wall time on the shared
    2-core machine, 2026-11-30); `partner_team()` alone made five per test, and every sign-in one
    more. Hashes stay real argon2id strings (users with the same password share one, which no test
    looks at), wrong passwords still fail, sign-in and `check_needs_rehash` see production
    parameters. Subprocesses (CLI, `trialdesk serve`, the worker) hash as in production."""

    def __init__(self, real) -> None:
        self.real = real
        self.hashes: dict = {}
        self.outcomes: dict = {}

    def hash(self, password, *, salt=None):
        if salt is not None:
            return self.real.hash(password, salt=salt)
        if password not in self.hashes:
            self.hashes[password] = self.real.hash(password)
        return self.hashes[password]

    def verify(self, hash, password):
        key = (hash, password)
        if key not in self.outcomes:
            try:
                self.outcomes[key] = self.real.verify(hash, password)
            except Exception as error:  # noqa: BLE001 - replayed below, as argon2 raised it
                self.outcomes[key] = error
        outcome = self.outcomes[key]
        if isinstance(outcome, Exception):
            raise type(outcome)(*outcome.args)
        return outcome

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def postgres(app):
    """A test of PostgreSQL behaviour (row locks, its own SQL, the read planner): skipped on the
    embedded default (SQLite serializes every write, runs none of that SQL and keeps the reference
    path); gives the app."""
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (row locks, PostgreSQL's SQL and the read planner)")
    return app


@pytest.fixture(scope="session", autouse=True)
def memoized_password_hashing():
    from server.auth import passwords

    original = passwords.hasher
    passwords.hasher = MemoizedPasswordHasher(original)
    yield
    passwords.hasher = original


@pytest_asyncio.fixture
async def empty_database_url(tmp_path) -> AsyncIterator[str]:
    """A database of its own with no table yet, for a test that runs migrations itself; dropped after."""
    if BACKEND == "postgres":
        name = f"td_mig_{uuid.uuid4().hex[:8]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        try:
            yield _pg_url(name)
        finally:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite+aiosqlite:///{tmp_path}/m.db"


@pytest_asyncio.fixture(scope="session")
async def database_url(tmp_path_factory) -> AsyncIterator[str]:
    if BACKEND == "postgres":
        name = f"td_test_{RUN_ID}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        # Commits return without waiting for the WAL flush (fsync), which on the shared machine
        # waits behind the benchmarks' writes. Visibility and atomicity are the same; only a
        # crash of PostgreSQL itself could lose the last commits, which no test is about.
        await _pg_admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        url = _pg_url(name)
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("db") / "trialdesk.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if BACKEND == "postgres":
        yield PG_REDIS_URL
    else:
        from server.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
        yield embedded.url
        embedded.stop()


@pytest.fixture(scope="session")
def settings(database_url, redis_url) -> Settings:
    values = {
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TRIALDESK_ENV": "test", "TRIALDESK_TEST_CLOCK": "1",
        "SECRET_KEY": "test-secret-key-" + "x" * 32, "TRIALDESK_QUEUE": f"trialdesk-test-{RUN_ID}",
        "BASE_URL": "http://testserver",
    }
    os.environ.update(values)  # subprocesses (CLI, server) and get_settings() see the same
    from server.settings import get_settings

    get_settings.cache_clear()
    return Settings(**values)


@pytest_asyncio.fixture(scope="session")
async def app(settings):
    from server.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(scope="session")
async def sessionmaker(app):
    return app.state.sessionmaker


#: Every sequence owned by a column of `tables` (serial or identity) back to its start value.
RESTART_SEQUENCES = text(
    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s "
    "JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i') "
    "JOIN pg_class t ON t.oid = d.refobjid "
    "WHERE t.relname = ANY(:tables) AND t.relnamespace = current_schema()::regnamespace")


@pytest_asyncio.fixture(autouse=True)
async def clean_tables(request):
    """Empty every table before each test that uses the database (catalog rows stay).

    On PostgreSQL only the tables holding rows are truncated (one query finds them), then every
    id sequence starts again at 1 (also of a table left empty by a rolled-back insert), as
    TRUNCATE … RESTART IDENTITY of all 24 tables did. That TRUNCATE cost ~0.55-0.7 s per test
    on the shared machine (2026-11-30: each truncated table and index gets a new file and its
    old buffers are searched for), DELETEs ~0.06-0.09 s; but DELETE leaves dead rows whose
    space later inserts reuse, so a SELECT without ORDER BY no longer answers in insertion order,
    which some assertions read (a flaky test_r_time_01_05 audit order): truncation keeps fresh
    tables, only fewer of them."""
    if "sessionmaker" not in request.fixturenames and "app" not in request.fixturenames \
            and "client" not in request.fixturenames:
        yield
        return
    engine = request.getfixturevalue("app").state.engine
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            holding = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for t in tables)
            dirty = list(await conn.scalars(text(holding)))
            if dirty:
                await conn.execute(text(f"TRUNCATE {', '.join(dirty)} CASCADE"))
            await conn.execute(RESTART_SEQUENCES, {"tables": tables})
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
    from server import clock

    clock.configure(True)
    yield


@pytest_asyncio.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest_asyncio.fixture
async def db(sessionmaker):
    """A transaction for arranging rows directly; committed when the test body leaves the block."""
    async with sessionmaker() as session:
        yield session
        await session.rollback()


ROOT = Path(__file__).resolve().parent.parent
