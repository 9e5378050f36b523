"""A root field that fails next to others that are reading (graphql-core 3.3 cancels the siblings of a
failed non-null root field): the answer is the field's error, never a 500, and the request's database
connection is handed back clean (no session left idle in a transaction holding locks)."""
from __future__ import annotations

from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import existing_customer, partner_team

SIBLINGS = """query Q($other: ID!, $mine: ID!) {
  customer(id: $mine) { name trials { id } locations { name } }
  auditEvents(customerId: $other) { action }
  customers(first: 50) { totalCount edges { node { name trials { id } locations { name } } } }
  mine: auditEvents(customerId: $mine) { action }
}"""


async def test_r_org_02_a_failed_root_beside_reading_siblings_is_an_error_not_a_500(client, sessionmaker, app):
    alpha = await partner_team(sessionmaker)
    beta = await partner_team(sessionmaker)
    for _ in range(7):
        await existing_customer(sessionmaker, managed_by=beta.partner_id)
    mine = to_global_id("Customer", await existing_customer(sessionmaker, managed_by=beta.partner_id))
    theirs = to_global_id("Customer", await existing_customer(sessionmaker, managed_by=alpha.partner_id))
    headers = {"authorization": f"Bearer {beta.tokens[Role.PARTNER_FULL_ADMIN]}"}
    for _ in range(40):
        response = await client.post("/graphql", json={"query": SIBLINGS, "variables": {"other": theirs, "mine": mine}},
                                     headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    answered = await client.post("/graphql", json={"query": "{ customers(first: 50) { totalCount } }"},
                                 headers=headers)
    assert answered.json()["data"]["customers"]["totalCount"] == 8
    if app.state.engine.dialect.name == "postgresql":
        async with app.state.engine.connect() as connection:
            from sqlalchemy import text

            idle = await connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"))
        assert idle == 0
