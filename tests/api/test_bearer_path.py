"""POST /graphql with a bearer token takes its own ASGI path (server.graphql_bearer: the middleware
stack's work in one frame); every other request the general one. Both answer the same statuses,
headers (request ID, security headers, content type and length) and bodies: a planned or reference
answer, 400, 406, 413, 415, a revoked or unknown token, a token beside a session cookie, a 500 (with
the exception raised on), and the requests the bearer path leaves alone (GET, PUT's 405, no token)."""
from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import update

from server import clock, graphql_bearer, graphql_http
from server.auth.tokens import hash_token
from server.db.models import ApiToken
from server.enums import Role
from tests import factories

GR = "application/graphql-response+json"
REQUEST_ID = "rp2-fixed-request-id-0001"


async def both(app, method: str, path: str = "/graphql", *, headers: dict | None = None, body: bytes | None = None,
               raise_app_exceptions: bool = True) -> tuple[httpx.Response, httpx.Response, int]:
    """(the bearer path's response, the general path's, how many requests the bearer path took)."""
    taken = []
    original = graphql_bearer.answer

    async def counted(*args):
        taken.append(1)
        await original(*args)

    graphql_bearer.answer = counted
    responses = []
    try:
        for bearer_path in (True, False):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                await client.get("/healthz")  # the middleware stack built (its first call)
                app.bearer_path = bearer_path
                responses.append(await client.request(method, path, headers=headers, content=body))
    finally:
        graphql_bearer.answer = original
        app.bearer_path = True
    return responses[0], responses[1], len(taken)


def same(fast: httpx.Response, general: httpx.Response) -> None:
    assert fast.status_code == general.status_code
    assert fast.headers.raw == general.headers.raw  # names, values and order
    assert fast.content == general.content


def post(token: str | None, payload, **extra) -> dict:
    headers = {"content-type": "application/json", "accept": GR, "x-request-id": REQUEST_ID, **extra}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {"headers": headers, "body": body}


@pytest.fixture
async def token(app, sessionmaker) -> str:
    team = await factories.partner_team(sessionmaker, roles=[Role.SALES_FULL_ADMIN])
    return team.tokens[Role.SALES_FULL_ADMIN]


CASES = {
    "planned": ({"query": "query L($n: Int!) { viewer { email } customers(first: $n) { totalCount } }",
                 "variables": {"n": 3}}, {}),
    "reference": ({"query": "{ deviceModels { model } }"}, {}),
    "parse error 400": ({"query": "{ viewer { "}, {}),
    "not json 400": (b"{", {}),
    "not an object 400": (b"[1]", {}),
    "variables 400": ({"query": "query L($n: Int!) { customers(first: $n) { totalCount } }",
                       "variables": {"n": "x"}}, {}),
    "unsupported media type 415": ({"query": "{ __typename }"}, {"content-type": "text/plain"}),
    "not acceptable 406": ({"query": "{ __typename }"}, {"accept": "text/html"}),
    "legacy json": ({"query": "{ nope }"}, {"accept": "application/json"}),
    "no request id": ({"query": "{ __typename }"}, {"x-request-id": "bad id"}),
    "mutation": ({"query": "mutation { revokeApiToken(tokenId: \"x\") { userErrors { code } } }"}, {}),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_bearer_request_answers_as_the_general_path_does(app, token, case):
    payload, extra = CASES[case]
    fast, general, taken = await both(app, "POST", **post(token, payload, **extra))
    assert taken == 1
    if case == "no request id":  # a new one each: both of its form, the rest the same
        assert fast.headers["x-request-id"] != general.headers["x-request-id"]
        assert len(fast.headers["x-request-id"]) == len(general.headers["x-request-id"]) == 32
        fast.headers["x-request-id"] = general.headers["x-request-id"]
    same(fast, general)


@pytest.mark.parametrize("token_text", ["td_unknown", "", "  spaced  "])
async def test_an_unknown_or_empty_token_answers_as_the_general_path_does(app, token_text):
    fast, general, taken = await both(app, "POST", **post(token_text, {"query": "{ viewer { email } }"}))
    assert taken == 1
    same(fast, general)
    assert fast.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_token_answers_as_the_general_path_does(app, client, sessionmaker, token):
    query = {"query": "{ viewer { email } customers(first: 2) { totalCount } }"}
    for _ in range(2):  # known to the planned path (server.auth.authenticate.TokenCheck)
        assert (await client.post("/graphql", json=query, headers={"authorization": f"Bearer {token}"})).json()["data"]
    async with sessionmaker() as db, db.begin():
        await db.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token)).values(revoked_at=clock.now()))
    fast, general, _ = await both(app, "POST", **post(token, query))
    same(fast, general)
    assert fast.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_body_over_the_limit_answers_413_on_both_paths(app, token):
    big = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * ((1 << 20) + 10)}}).encode()
    for who in (token, "td_unknown"):  # 1 MiB with a valid token, 16 KiB without
        fast, general, taken = await both(app, "POST", **post(who, big))
        assert taken == 1 and fast.status_code == 413
        same(fast, general)
    small_enough = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * (20 << 10)}}).encode()
    fast, general, _ = await both(app, "POST", **post("td_unknown", small_enough))
    assert fast.status_code == 413
    same(fast, general)


async def test_a_bearer_token_beside_a_session_cookie_answers_as_the_general_path_does(app, token):
    fast, general, taken = await both(app, "POST", **post(token, {"query": "{ viewer { email } }"},
                                                          cookie="td_session=bogus; td_csrf=bogus"))
    assert taken == 1
    same(fast, general)


async def test_a_bug_answers_500_with_the_security_headers_on_both_paths_and_is_raised(app, token, monkeypatch):
    def boom(params):
        raise RuntimeError("a bug")

    monkeypatch.setattr(graphql_http, "check_params", boom)
    fast, general, taken = await both(app, "POST", raise_app_exceptions=False,
                                      **post(token, {"query": "{ __typename }"}))
    assert taken == 1 and fast.status_code == 500 and fast.text == "Internal Server Error"
    same(fast, general)
    with pytest.raises(RuntimeError, match="a bug"):
        await both(app, "POST", **post(token, {"query": "{ __typename }"}))


@pytest.mark.parametrize("method, path, extra", [
    ("GET", "/graphql?query=%7B__typename%7D", {}),
    ("GET", "/graphql?query=mutation%7BadvanceClock(days%3A1)%7D", {}),  # 405 with Allow: POST
    ("PUT", "/graphql", {}),                                           # the router's 405
    ("POST", "/graphql/", {}),
    ("POST", "/graphql", {"authorization": "Basic eDp5"}),
])
async def test_other_requests_take_the_general_path(app, token, method, path, extra):
    headers = {"authorization": f"Bearer {token}", "x-request-id": REQUEST_ID, "accept": GR, **extra}
    fast, general, taken = await both(app, method, path, headers=headers,
                                      body=b'{"query": "{ __typename }"}' if method != "GET" else None)
    assert taken == 0
    same(fast, general)
