"""Fuzzing the request's shape (issue 21): generated variables of any nesting (to 400 levels) and list
length (to 3000), and bodies of any size (to 2 MiB), posted signed out and signed in to `/graphql`
through the ASGI app. Every answer is 200, 400 or 413 with a GraphQL error body: no 500, no
RecursionError, no INTERNAL_SERVER_ERROR. Derandomized: the same examples every run."""
from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.enums import Role
from tests import factories

GR = "application/graphql-response+json"
QUERIES = ["{ __typename }", "query($n: [String!]) { demoOrders(serialNumbers: $n) { id } }",
           "query($s: String) { customers(first: 5, search: $s) { totalCount } }",
           "mutation($i: StartTrialInput!) { startTrial(input: $i) { userErrors { code } } }"]
SHAPE = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))


def nested(depth: int, leaf: object, as_list: bool) -> str:
    text = orjson.dumps(leaf).decode()
    return ("[" * depth + text + "]" * depth) if as_list else ('{"a":' * depth + text + "}" * depth)


shapes = st.one_of(
    st.builds(lambda depth, as_list: nested(depth, "x", as_list), st.integers(0, 400), st.booleans()),
    st.builds(lambda n, item: orjson.dumps([item] * n).decode(), st.sampled_from([0, 1, 999, 1000, 1001, 3000]),
              st.sampled_from(["SN1", 1, None, {"a": 1}])),
    st.builds(lambda size: orjson.dumps("x" * size).decode(), st.sampled_from([0, 16 << 10, (1 << 20) + 1, 2 << 20])),
)


@pytest.fixture
async def token(sessionmaker):
    return (await factories.partner_team(sessionmaker)).tokens[Role.SALES_FULL_ADMIN]


@SHAPE
@given(query=st.sampled_from(QUERIES), value=shapes, signed_in=st.booleans(), name=st.sampled_from("nsi"))
async def test_no_request_shape_answers_500(client, token, query, value, signed_in, name):
    body = f'{{"query": {orjson.dumps(query).decode()}, "variables": {{"{name}": {value}}}}}'.encode()
    headers = {"content-type": "application/json", "accept": GR}
    if signed_in:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code in (200, 400, 413), (response.status_code, response.text[:300])
    answer = response.json()
    assert "INTERNAL_SERVER_ERROR" not in response.text and "Traceback" not in response.text, answer
    assert "data" in answer or answer.get("errors"), answer
