"""A root field that fails beside others that are reading: graphql-core 3.3 cancels the siblings of a
failed non-null root field, possibly in the middle of a statement on the request's read session
(asyncpg then closes that connection). The answer is the field's error, never a 500; the broken
connection leaves the pool (server.schema.context.Context.close) and no session stays idle in a
transaction holding locks; the next request reads normally."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import existing_customer, partner_team

QUERIES = {
    "first out of range": """query Q($mine: ID!) {
        customers(first: 50) { totalCount edges { node { name trials { id } } } }
        bad: customers(first: -1) { totalCount } x: customer(id: $mine) { name } }""",
    "first too big": """query Q($mine: ID!) {
        customer(id: $mine) { name trials { id } locations { name } purchasedServices }
        bad: customers(first: 101) { totalCount } }""",
    "audit out of reach": """query Q($mine: ID!, $other: ID!) {
        customer(id: $mine) { name trials { id } locations { name } }
        auditEvents(customerId: $other) { action }
        customers(first: 50) { totalCount edges { node { name trials { id } locations { name } } } } }""",
}


@pytest.mark.parametrize("case", QUERIES)
async def test_r_org_02_a_failed_root_beside_reading_siblings_is_an_error_not_a_500(client, sessionmaker, app, case):
    alpha = await partner_team(sessionmaker)
    beta = await partner_team(sessionmaker)
    for _ in range(7):
        await existing_customer(sessionmaker, managed_by=beta.partner_id)
    mine = to_global_id("Customer", await existing_customer(sessionmaker, managed_by=beta.partner_id))
    theirs = to_global_id("Customer", await existing_customer(sessionmaker, managed_by=alpha.partner_id))
    headers = {"authorization": f"Bearer {beta.tokens[Role.PARTNER_FULL_ADMIN]}"}
    for _ in range(40):
        response = await client.post("/graphql", json={"query": QUERIES[case],
                                                       "variables": {"mine": mine, "other": theirs}}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] is None and body["errors"], body
    answered = await client.post("/graphql", json={"query": "{ customers(first: 50) { totalCount } }"},
                                 headers=headers)
    assert answered.json()["data"]["customers"]["totalCount"] == 8
    if app.state.engine.dialect.name == "postgresql":
        async with app.state.engine.connect() as connection:
            idle = (await connection.execute(text(
                "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"))).all()
        assert idle == []
