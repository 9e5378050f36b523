"""Bounded work before authentication (issue 21): `/graphql` refuses an oversized body with 413 and a
GraphQL-over-HTTP error body (16 KiB signed out, 1 MiB signed in, a bearer token checked before a
larger body is read), and variables nested too deep, with too long a list or too many values with
400 before graphql-core coerces them. Before: an anonymous 8 MB request with a 2,000,000-item list
held a worker for 8 s, a 711-byte body of 330-deep variables answered 500 (RecursionError), and
`demoOrders` with 40,000 serial numbers INTERNAL_SERVER_ERROR."""
from __future__ import annotations

import orjson
import pytest

from server import graphql_http
from server.domain.devices.demo_orders import MAX_SERIAL_NUMBERS
from server.enums import Role
from tests import factories

GR = "application/graphql-response+json"
CATALOG = "query Catalog($x: [String!]) { __typename }"  # refused before validation (which $x would fail)
DEMO = "query Demo($n: [String!]) { demoOrders(serialNumbers: $n) { id } }"


async def post(client, body: bytes, token: str | None = None):
    headers = {"content-type": "application/json", "accept": GR}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", content=body, headers=headers)


def padded(size: int) -> bytes:
    """A valid request of about `size` bytes (the padding in a variable nobody declared)."""
    return orjson.dumps({"query": "{ __typename }", "variables": {"pad": "x" * size}})


def refused(response, status: int, says: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(GR)
    assert says in response.json()["errors"][0]["message"], response.text


async def test_an_anonymous_body_over_16_kib_is_413(client):
    refused(await post(client, padded(graphql_http.MAX_ANONYMOUS_BODY_BYTES)), 413, "body is over")
    assert (await post(client, padded(1000))).json() == {"data": {"__typename": "Query"}}


async def test_an_anonymous_8_mb_list_is_413_before_it_is_read(client):
    body = orjson.dumps({"query": CATALOG, "variables": {"x": ["a"] * 2_000_000}})
    refused(await post(client, body), 413, "body is over")


async def test_a_signed_in_body_up_to_1_mib_runs_and_over_it_is_413(client, sessionmaker):
    token = (await factories.partner_team(sessionmaker)).tokens[Role.SALES_ADMIN]
    assert (await post(client, padded(200_000), token)).json() == {"data": {"__typename": "Query"}}
    refused(await post(client, padded(graphql_http.MAX_BODY_BYTES), token), 413, "body is over")


async def test_a_bad_bearer_token_gets_no_larger_body(client):
    refused(await post(client, padded(100_000), "not-a-token"), 413, "body is over")


@pytest.mark.parametrize("depth", [graphql_http.MAX_VARIABLE_DEPTH + 1, 330])
async def test_deeply_nested_variables_are_400_not_500(client, depth):
    query = orjson.dumps(CATALOG).decode()
    for opening, closing in (("[", "]"), ('{"a":', "}")):
        body = f'{{"query": {query}, "variables": {{"x": {opening * depth}"x"{closing * depth}}}}}'
        refused(await post(client, body.encode()), 400, "levels deep")


async def test_long_lists_and_many_values_are_400(client, sessionmaker):
    token = (await factories.partner_team(sessionmaker)).tokens[Role.SALES_ADMIN]
    too_long = {"x": ["a"] * (graphql_http.MAX_LIST_ITEMS + 1)}
    refused(await post(client, orjson.dumps({"query": CATALOG, "variables": too_long}), token), 400, "items")
    many = {f"v{i}": ["a"] * graphql_http.MAX_LIST_ITEMS for i in range(graphql_http.MAX_VARIABLE_VALUES
                                                                      // graphql_http.MAX_LIST_ITEMS + 1)}
    refused(await post(client, orjson.dumps({"query": CATALOG, "variables": many}), token), 400, "values")
    fine = {"n": ["a"] * graphql_http.MAX_LIST_ITEMS}  # the list passes; demoOrders' own cap answers
    assert (await post(client, orjson.dumps({"query": DEMO, "variables": fine}), token)).status_code == 200


async def test_r_rma_03_demo_orders_caps_serial_numbers(client, sessionmaker):
    token = (await factories.partner_team(sessionmaker)).tokens[Role.SALES_ADMIN]
    serials = [f"SN{i:06d}" for i in range(MAX_SERIAL_NUMBERS + 1)]
    body = (await post(client, orjson.dumps({"query": DEMO, "variables": {"n": serials}}), token)).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body
    ok = (await post(client, orjson.dumps({"query": DEMO, "variables": {"n": serials[:MAX_SERIAL_NUMBERS]}}),
                     token)).json()
    assert ok == {"data": {"demoOrders": []}}
    huge = [f"SN{i:06d}" for i in range(40_000)]
    refused(await post(client, orjson.dumps({"query": DEMO, "variables": {"n": huge}}), token), 400, "items")
