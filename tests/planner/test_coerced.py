"""The planner keeps an operation's coerced variables by their raw scalar values and types
(server.planner.plans.Plan.coerce): the same values again are not coerced again, and a value of
another type that compares equal (True and 1, 1.5) is coerced on its own and refused as the
reference path refuses it. PostgreSQL only (the planner)."""
from __future__ import annotations

from server.enums import Role
from tests import factories

QUERY = "query L($n: Int!, $q: String) { customers(first: $n, search: $q) { totalCount } }"
GR = "application/graphql-response+json"


async def test_coerced_variables_are_kept_by_value_and_type(postgres, client, sessionmaker):
    team = await factories.partner_team(sessionmaker, roles=[Role.SALES_FULL_ADMIN])
    headers = {"authorization": f"Bearer {team.tokens[Role.SALES_FULL_ADMIN]}", "accept": GR}

    async def ask(variables: dict):
        return await client.post("/graphql", json={"query": QUERY, "variables": variables}, headers=headers)

    for _ in range(2):
        answer = await ask({"n": 1, "q": "x"})
        assert answer.status_code == 200 and answer.json() == {"data": {"customers": {"totalCount": 0}}}
    plan = next(plan for (query, _), plan in postgres.state.planner.plans.items() if query == QUERY)
    assert len(plan.coerced) == 1
    for wrong in (True, 1.5, "1"):
        refused = await ask({"n": wrong, "q": "x"})
        assert refused.status_code == 400, refused.text
        assert "Int cannot represent" in refused.json()["errors"][0]["message"]
    assert (await ask({"n": 1, "q": None})).status_code == 200
    assert len(plan.coerced) == 2  # None is a value of its own; the refused ones are not kept
