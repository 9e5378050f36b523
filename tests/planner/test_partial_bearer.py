"""Issue 25 item 2 over HTTP with a bearer token: a query whose root fields the planner answers in
part (`viewer`) and hands back in part (`availableServices`, a Python rule over several reads) runs
the planned statement on the token's read connection and the rest on the reference path's own
session. Found 2026-12-07: an audited look-up's write (`availableServices` writes an audit row) rolled
back the read session while its sibling root field (`viewer`, on the reference path) was in the middle
of a statement on it: INTERNAL_SERVER_ERROR and `data: null` on both backends, and on PostgreSQL a
connection left in a transaction. A write now sets the read session aside (server.schema.context)."""
from __future__ import annotations

from server.enums import Role
from tests import factories
from tests.helpers import gql

QUERY = "{ viewer { email } availableServices { type available } }"


async def test_a_partly_planned_query_with_a_bearer_token_answers_both_parts(client, sessionmaker):
    team = await factories.partner_team(sessionmaker, roles=[Role.SALES_FULL_ADMIN])
    token = team.tokens[Role.SALES_FULL_ADMIN]
    for _ in range(3):  # the first request plans the document; the later ones run the cached plan
        body = await gql(client, QUERY, token=token)
        assert "errors" not in body, body
        assert body["data"]["viewer"]["email"] == team.emails[Role.SALES_FULL_ADMIN]
        assert {s["type"] for s in body["data"]["availableServices"]} >= {"MESSAGING", "MEETINGS"}
    alone = await gql(client, "{ viewer { email } }", token=token)  # the read connection went back clean
    assert alone["data"]["viewer"]["email"] == team.emails[Role.SALES_FULL_ADMIN]
