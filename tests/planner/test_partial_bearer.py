"""Issue 25 item 2 over HTTP with a bearer token: a query whose root fields the planner answers in
part (`viewer`) and hands back in part (here `availableServices`, its declaration taken away) runs
the planned statement on the token's read connection and the rest on the reference path's own
session. Found 2026-12-07: an audited look-up's write (`availableServices` writes an audit row) rolled
back the read session while its sibling root field (`viewer`, on the reference path) was in the middle
of a statement on it: INTERNAL_SERVER_ERROR and `data: null` on both backends, and on PostgreSQL a
connection left in a transaction. A write now sets the read session aside (server.schema.context).
Since `availableServices` is planned (server.planner.calls), the look-up by adminEmail (R-EX-01: it writes
an audit row and counts) is the planner's too, its write on the write sessionmaker beside the token's
read connection: answered whole, and the connection goes back clean."""
from __future__ import annotations

import pytest

from server.enums import Role
from tests import factories
from tests.helpers import gql

QUERY = "{ viewer { email } availableServices { type available } }"
LOOKUP = '{ viewer { email } availableServices(adminEmail: "nobody@nowhere.example") { type available } }'


@pytest.mark.parametrize("query, declared", [(QUERY, False), (LOOKUP, True)])
async def test_r_ex_01_a_partly_planned_query_with_a_bearer_token_answers_both_parts(app, client, sessionmaker,
                                                                                    monkeypatch, query, declared):
    from tests.planner.test_metrics import undeclared

    if not declared:
        undeclared(monkeypatch, "availableServices")
    team = await factories.partner_team(sessionmaker, roles=[Role.SALES_FULL_ADMIN])
    token = team.tokens[Role.SALES_FULL_ADMIN]
    for _ in range(3):  # the first request plans the document; the later ones run the cached plan
        body = await gql(client, query, token=token)
        assert "errors" not in body, body
        assert body["data"]["viewer"]["email"] == team.emails[Role.SALES_FULL_ADMIN]
        assert {s["type"] for s in body["data"]["availableServices"]} >= {"MESSAGING", "MEETINGS"}
    alone = await gql(client, "{ viewer { email } }", token=token)  # the read connection went back clean
    assert alone["data"]["viewer"]["email"] == team.emails[Role.SALES_FULL_ADMIN]
