"""Issues 10 and 15: queries the read planner answers over `/graphql` (stored documents by persisted
hash or as text, bearer token or session, and ad-hoc queries) answer exactly as the reference path
does, byte for byte; another partner's token gets nothing more. The server's stored documents are
known by hash without registering them first. The planner runs on PostgreSQL only; elsewhere both
sides are the reference path and the tests still check the HTTP contract.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from server import clock
from server.db.models.trials import Trial, TrialService
from server.domain.orgs import directory
from server.enums import Role
from server.pages.operations import read_operations
from tests import factories

OPERATIONS = read_operations()
GR = "application/graphql-response+json"


def _by_hash(name: str, variables: dict | None = None) -> dict:
    digest = hashlib.sha256(OPERATIONS[name].encode()).hexdigest()
    body: dict = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if variables is not None:
        body["variables"] = variables
    return body


async def _arrange(sessionmaker):
    a = await factories.partner_team(sessionmaker, "Alpha")
    b = await factories.partner_team(sessionmaker, "Beta")
    now = clock.now()
    async with sessionmaker() as db, db.begin():
        ids = {}
        for name, partner in (("Acme", a), ("Borealis", a), ("Cobalt", a), ("Beta Secret", b), ("Beta Other", b)):
            customer = await directory.create_customer(db, name, "NO", f"admin@{name.replace(' ', '').lower()}.example",
                                                       managed_by=partner.partner_id)
            ids[name] = customer.id
            trial = Trial(customer_id=customer.id, partner_id=partner.partner_id, kind="EXISTING_CUSTOMER",
                          state="ACTIVE", license_count=10, duration_days=90, starts_at=now - timedelta(days=5),
                          ends_at=now + timedelta(days=20, hours=len(name)), created_at=now)
            db.add(trial)
            await db.flush()
            db.add(TrialService(trial_id=trial.id, customer_id=customer.id, service="MEETINGS", holds=False))
    return a, b, ids


def _cases(ids: dict[str, int], cursor: str | None) -> list[tuple[str, dict | None]]:
    cases: list[tuple[str, dict | None]] = [
        ("CustomersPage", None), ("CustomersPage", {}), ("CustomersPage", {"first": 1}),
        ("CustomersPage", {"search": "co"}), ("CustomersPage", {"status": "TRIAL_ACTIVE"}),
        ("CustomersPage", {"first": 2, "after": cursor}), ("CustomersPage", {"after": "not-a-cursor"}),
        ("CustomersPage", {"first": 1000}), ("CustomersPage", {"first": "two"}), ("CustomersPage", {"search": 7}),
        ("CustomersPage", {"status": "NOPE"}),
    ]
    if "CustomerPage" in OPERATIONS:
        from server.schema.node import to_global_id

        cases += [("CustomerPage", {"id": to_global_id("Customer", ids["Acme"])}),
                  ("CustomerPage", {"id": to_global_id("Customer", ids["Beta Secret"])}),
                  ("CustomerPage", {"id": to_global_id("Trial", ids["Acme"])}),
                  ("CustomerPage", {"id": "garbage"}), ("CustomerPage", {})]
    return cases


@pytest.fixture
def counted(app):
    """Answers the planner gave over HTTP, by operation name, during the test (empty on SQLite)."""
    planner = app.state.planner
    before = planner.planned.copy() if planner is not None else {}

    class Delta:
        def __getitem__(self, name: str) -> int:
            return planner.planned[name] - before.get(name, 0) if planner is not None else 0

        def __contains__(self, name: str) -> bool:
            return self[name] > 0
    return Delta()


async def _reference(app, call):
    """The same call with no planner: the reference path's answer."""
    saved = app.state.planner
    app.state.planner = None
    try:
        return await call()
    finally:
        app.state.planner = saved


async def test_planned_answers_over_http_are_the_reference_answers(app, client, sessionmaker, counted):
    a, b, ids = await _arrange(sessionmaker)
    headers = {"authorization": f"Bearer {a.tokens[Role.SALES_FULL_ADMIN]}", "accept": GR}
    first = await client.post("/graphql", json=_by_hash("CustomersPage", {"first": 1}), headers=headers)
    cursor = first.json()["data"]["customers"]["pageInfo"]["endCursor"]
    for name, variables in _cases(ids, cursor):
        async def call():
            return await client.post("/graphql", json=_by_hash(name, variables), headers=headers)
        planned, reference = await call(), await _reference(app, call)
        assert (planned.status_code, planned.headers["content-type"]) == \
            (reference.status_code, reference.headers["content-type"]), (name, variables)
        assert planned.content == reference.content, (name, variables)
    if app.state.engine.dialect.name == "postgresql":  # the planner answered what it handles
        assert counted["CustomersPage"] >= 5
        assert counted["CustomerPage"] >= 1


async def test_query_text_get_and_session_cookie_take_the_same_way(app, client, sessionmaker, counted):
    a, _, _ = await _arrange(sessionmaker)
    text = OPERATIONS["CustomersPage"]
    csrf = await factories.login(client, a.emails[Role.SALES_FULL_ADMIN])
    calls = [
        lambda: client.post("/graphql", json={"query": text, "variables": {"first": 2}},
                            headers={"authorization": f"Bearer {a.tokens[Role.READ_ONLY]}"}),
        lambda: client.get("/graphql", params={"query": text, "operationName": "CustomersPage"},
                           headers={"authorization": f"Bearer {a.tokens[Role.READ_ONLY]}", "accept": GR}),
        lambda: client.post("/graphql", json={"query": text, "operationName": "Other"},
                            headers={"authorization": f"Bearer {a.tokens[Role.READ_ONLY]}"}),
        lambda: client.post("/graphql", json=_by_hash("CustomersPage"), headers={"x-csrf-token": csrf}),
    ]
    for call in calls:
        planned, reference = await call(), await _reference(app, call)
        assert planned.status_code == reference.status_code and planned.content == reference.content


async def test_another_partners_token_gets_nothing_more(app, client, sessionmaker, counted):
    a, b, ids = await _arrange(sessionmaker)
    for token in (b.tokens[Role.SALES_FULL_ADMIN], b.tokens[Role.READ_ONLY]):
        async def call():
            return await client.post("/graphql", json=_by_hash("CustomersPage"),
                                     headers={"authorization": f"Bearer {token}"})
        planned, reference = await call(), await _reference(app, call)
        assert planned.content == reference.content
        names = [e["node"]["name"] for e in planned.json()["data"]["customers"]["edges"]]
        assert names == ["Beta Other", "Beta Secret"]
    alpha = await client.post("/graphql", json=_by_hash("CustomersPage"),
                              headers={"authorization": f"Bearer {a.tokens[Role.SALES_FULL_ADMIN]}"})
    assert "Acme" in alpha.text and "Beta Secret" not in alpha.text


async def test_a_signed_out_caller_or_a_bad_token_gets_the_reference_error(app, client, sessionmaker):
    await _arrange(sessionmaker)
    for headers in ({}, {"authorization": "Bearer td_not-a-token"}):
        async def call():
            return await client.post("/graphql", json=_by_hash("CustomersPage"), headers=headers)
        planned, reference = await call(), await _reference(app, call)
        assert planned.content == reference.content
        assert planned.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_stored_documents_are_known_by_hash_without_registering(app, client, sessionmaker):
    a, _, _ = await _arrange(sessionmaker)
    digest = hashlib.sha256(OPERATIONS["CustomersPage"].encode()).hexdigest()
    await app.state.redis.delete(f"trialdesk:apq:{digest}")
    response = await client.post("/graphql", json=_by_hash("CustomersPage"),
                                  headers={"authorization": f"Bearer {a.tokens[Role.SALES_FULL_ADMIN]}"})
    assert response.json()["data"]["customers"]["totalCount"] == 3
    assert await app.state.redis.get(f"trialdesk:apq:{digest}") is None


async def test_a_revoked_token_is_refused_on_its_next_planned_call(app, client, sessionmaker, counted):
    """The token is read on every request, on the planner's own connection (no cache): revoked now,
    refused now; its last use is written once, to the minute."""
    from sqlalchemy import select, update

    from server.auth.tokens import hash_token
    from server.db.models import ApiToken
    from server.schema.node import to_global_id

    a, _, ids = await _arrange(sessionmaker)
    token = a.tokens[Role.SALES_FULL_ADMIN]
    headers = {"authorization": f"Bearer {token}"}
    detail = ("CustomerPage", {"id": to_global_id("Customer", ids["Acme"])})
    for name, variables in (("CustomersPage", None), detail):
        answer = await client.post("/graphql", json=_by_hash(name, variables), headers=headers)
        assert answer.json()["data"]["viewer"]["roles"] == ["SALES_FULL_ADMIN"]
    async with sessionmaker() as db:
        used = await db.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == hash_token(token)))
    assert used is not None and abs(used - clock.now()) < timedelta(minutes=1)
    async with sessionmaker() as db, db.begin():
        await db.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token)).values(revoked_at=clock.now()))
    for name, variables in (("CustomersPage", None), detail):
        refused = await client.post("/graphql", json=_by_hash(name, variables), headers=headers)
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", (name, refused.text)
        assert "Acme" not in refused.text


async def test_the_read_pool_lends_waits_and_drops_what_broke(app):
    """server.db.engine's read pool: a checkout past its size waits for the next return (a cancelled
    wait loses nothing); a PostgreSQL error leaves the connection in the pool, anything else ends it."""
    import asyncio

    import asyncpg

    from server.db import engine as db_engine

    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("the read pool is PostgreSQL's (asyncpg)")
    pool = db_engine._ReadPool(app.state.engine, size=2)
    try:
        first, second = await pool.acquire(), await pool.acquire()
        cancelled = asyncio.ensure_future(pool.acquire())
        waiting = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        cancelled.cancel()
        pool.release(first)
        assert await asyncio.wait_for(waiting, 5) is first and await first.fetchval("SELECT 1") == 1
        pool.release(first)
        pool.release(second)
        assert len(pool.idle) == 2
        db_engine._READ_POOLS[app.state.engine.pool], saved = pool, db_engine._READ_POOLS[app.state.engine.pool]
        try:
            with pytest.raises(asyncpg.PostgresError):
                async with db_engine.read_connection(app.state.engine) as connection:
                    await connection.fetchval("SELECT broken FROM nowhere")
            assert len(pool.opened_at) == 2 and not connection.is_closed()
            with pytest.raises(asyncio.CancelledError):
                async with db_engine.read_connection(app.state.engine) as connection:
                    raise asyncio.CancelledError
            assert len(pool.opened_at) == 1 and connection.is_closed()
            async with db_engine.read_connection(app.state.engine) as connection:
                assert await connection.fetchval("SELECT '[1]'::json") == [1]  # decoded as through the engine
        finally:
            db_engine._READ_POOLS[app.state.engine.pool] = saved
    finally:
        await pool.close()


async def test_a_bearer_token_is_checked_even_when_the_request_is_refused(app, client, sessionmaker):
    """On `/graphql` the endpoint checks the token (AuthMiddleware leaves it there): a malformed request
    still records the token's last use, as every other request does."""
    from sqlalchemy import select

    from server.auth.tokens import hash_token
    from server.db.models import ApiToken

    a, _, _ = await _arrange(sessionmaker)
    token = a.tokens[Role.READ_ONLY]
    refused = await client.post("/graphql", content=b"not json", headers={"authorization": f"Bearer {token}",
                                                                          "content-type": "application/json"})
    assert refused.status_code == 400 or "errors" in refused.json()
    async with sessionmaker() as db:
        used = await db.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == hash_token(token)))
    assert used is not None


async def test_a_read_pool_that_cannot_connect_fails_every_waiting_checkout(app):
    """A connection that fails to open frees its room: a checkout waiting for it tries (and fails) in turn."""
    import asyncio

    from server.db import engine as db_engine

    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("the read pool is PostgreSQL's (asyncpg)")
    pool = db_engine._ReadPool(app.state.engine, size=1)
    pool.options = {**pool.options, "host": "127.0.0.1", "port": 1}  # nothing listens there
    try:
        first, second = asyncio.ensure_future(pool.acquire()), asyncio.ensure_future(pool.acquire())
        results = await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 10)
        assert all(isinstance(r, OSError) for r in results), results
        assert pool.opening == 0 and not pool.opened_at
    finally:
        await pool.close()
