"""R-ROLE-02 on `/graphql`'s planned path: a bearer token is read in the planner's own statement (one
round trip a request, server.auth.authenticate.TokenCheck). The statement is built for the actor the
token gave on its last request and the answer kept only when the token's row, read with it, still
gives that actor: a revoked token, a deactivated user or a role taken away take effect on the very
next request, and the token's last use is recorded as before. PostgreSQL only (the planner)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from server import clock
from server.auth import authenticate
from server.auth.tokens import hash_token, new_token
from server.db.models import ApiToken, RoleGrant, User
from server.domain.orgs import directory
from server.enums import Role
from tests import factories
from tests.helpers import gql

VIEWER = "{ viewer { email roles } customers(first: 1) { totalCount } }"  # a statement to read the token in
CUSTOMERS = "query List($first: Int!) { viewer { email } customers(first: $first) { totalCount edges { node { name } } } }"


def reads_counted(monkeypatch) -> list[str]:
    """The token reads made on their own (not in the planner's statement), by hash."""
    seen: list[str] = []
    original = authenticate._token_rows

    async def counted(engine, token_hash, connection=None):
        seen.append(token_hash)
        return await original(engine, token_hash, connection)

    monkeypatch.setattr(authenticate, "_token_rows", counted)
    return seen


async def _two_role_token(sessionmaker) -> tuple[str, int, str]:
    team = await factories.partner_team(sessionmaker, roles=[Role.SALES_FULL_ADMIN])
    async with sessionmaker() as db, db.begin():
        user = await directory.create_user(db, "two.roles@partner.example", [Role.SALES_FULL_ADMIN, Role.SALES_ADMIN],
                                           partner_id=team.partner_id, password=team.password)
        token = new_token()
        await directory.create_api_token(db, user, hash_token(token), [Role.SALES_FULL_ADMIN, Role.SALES_ADMIN], "two")
    return token, user.id, "two.roles@partner.example"


async def test_r_role_02_a_known_token_is_read_in_the_planned_statement_and_answers_the_same(
        postgres, client, sessionmaker, monkeypatch):
    token, _, email = await _two_role_token(sessionmaker)
    seen = reads_counted(monkeypatch)
    first = await gql(client, CUSTOMERS, {"first": 5}, token=token)
    assert seen == [hash_token(token)]  # no actor known for it yet: read first
    for _ in range(3):
        assert await gql(client, CUSTOMERS, {"first": 5}, token=token) == first
    assert seen == [hash_token(token)]  # then read with the statement
    assert first["data"]["viewer"]["email"] == email
    assert postgres.state.planner.planned["List"] == 4


async def test_r_role_02_a_token_revoked_between_two_requests_answers_signed_out_on_the_next(
        postgres, client, sessionmaker):
    token, _, email = await _two_role_token(sessionmaker)
    for _ in range(2):
        assert (await gql(client, CUSTOMERS, {"first": 2}, token=token))["data"]["viewer"]["email"] == email
    async with sessionmaker() as db, db.begin():
        await db.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                         .values(revoked_at=clock.now()))
    signed_out = await gql(client, CUSTOMERS, {"first": 2})
    for _ in range(2):
        body = await gql(client, CUSTOMERS, {"first": 2}, token=token)
        assert body == signed_out and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert hash_token(token) not in authenticate._LAST


async def test_r_role_02_a_deactivated_user_s_token_answers_signed_out_on_the_next_request(
        postgres, client, sessionmaker):
    token, user_id, email = await _two_role_token(sessionmaker)
    for _ in range(2):
        assert (await gql(client, CUSTOMERS, {"first": 2}, token=token))["data"]["viewer"]["email"] == email
    async with sessionmaker() as db, db.begin():
        await db.execute(update(User).where(User.id == user_id).values(active=False))
    body = await gql(client, CUSTOMERS, {"first": 2}, token=token)
    assert body == await gql(client, CUSTOMERS, {"first": 2})


async def test_r_role_02_a_role_taken_from_the_user_leaves_the_token_on_the_next_request(
        postgres, client, sessionmaker):
    token, user_id, _ = await _two_role_token(sessionmaker)
    for _ in range(2):
        body = await gql(client, VIEWER, token=token)
        assert sorted(body["data"]["viewer"]["roles"]) == ["SALES_ADMIN", "SALES_FULL_ADMIN"]
    async with sessionmaker() as db, db.begin():
        await db.execute(delete(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.role == "SALES_ADMIN"))
    for _ in range(2):
        assert (await gql(client, VIEWER, token=token))["data"]["viewer"]["roles"] == ["SALES_FULL_ADMIN"]
    async with sessionmaker() as db, db.begin():
        await db.execute(delete(RoleGrant).where(RoleGrant.user_id == user_id))
    body = await gql(client, VIEWER, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_r_role_02_the_token_s_last_use_is_recorded_when_read_with_the_statement(
        postgres, client, sessionmaker, monkeypatch):
    token, _, _ = await _two_role_token(sessionmaker)
    await gql(client, CUSTOMERS, {"first": 2}, token=token)
    seen = reads_counted(monkeypatch)
    an_hour_ago = clock.now() - timedelta(hours=1)
    async with sessionmaker() as db, db.begin():
        await db.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                         .values(last_used_at=an_hour_ago))
    await gql(client, CUSTOMERS, {"first": 2}, token=token)
    assert seen == []  # read with the statement
    async with sessionmaker() as db:
        used = await db.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == hash_token(token)))
    assert used > an_hour_ago + timedelta(minutes=59)


async def test_r_role_02_a_planned_operation_that_reads_nothing_still_checks_the_token(
        postgres, client, sessionmaker, monkeypatch):
    """`{ __typename }` makes no statement: the token is read on its own, and a revoked one is refused."""
    token, _, _ = await _two_role_token(sessionmaker)
    await gql(client, VIEWER, token=token)
    seen = reads_counted(monkeypatch)
    assert await gql(client, "{ __typename }", token=token) == {"data": {"__typename": "Query"}}
    assert seen == [hash_token(token)]
