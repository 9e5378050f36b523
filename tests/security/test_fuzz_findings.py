"""Issue 16 item 9: one test per 500 the fuzzers found (tests/security/test_api_fuzz.py,
test_form_fuzz.py), each through its real entry point, each answered now with a message."""
from __future__ import annotations

import re

from server.enums import Role
from tests import factories
from tests.helpers import gql
from tests.pages.test_customer_setup_forms import a_trial


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def test_a_nul_character_in_a_graphql_request_is_refused_with_a_message(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    headers = {"Authorization": f"Bearer {team.tokens[Role.SALES_FULL_ADMIN]}",
               "Accept": "application/graphql-response+json"}
    message = "Text may not contain the NUL character (U+0000)."
    literal = await client.post("/graphql", headers=headers,
                                json={"query": '{ customers(search: "a\\u0000b") { totalCount } }'})
    variable = await client.post("/graphql", headers=headers, json={
        "query": "query($s: String) { customers(search: $s) { totalCount } }", "variables": {"s": "a\x00b"}})
    for answer in (literal, variable):
        assert answer.status_code == 400 and answer.json()["errors"][0]["message"] == message


async def test_customers_expiring_within_a_huge_number_of_days_answers_like_ten_years(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    await a_trial(client, sessionmaker, team, ["MESSAGING"])
    query = "query($d: Int) { customers(expiringWithinDays: $d) { totalCount } }"
    token = team.tokens[Role.SALES_FULL_ADMIN]
    counts = [(await gql(client, query, {"d": d}, token=token))["data"]["customers"]["totalCount"]
              for d in (2_000_000_000, 3650, -2_000_000_000)]
    assert counts == [1, 1, 0]


async def test_bulk_extend_with_days_out_of_range_answers_the_form(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    _, trial_id = await a_trial(client, sessionmaker, team, ["MESSAGING"])
    token = await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    answer = await client.post("/customers/extend", data={"csrf_token": token, "trial": trial_id,
                                                          "days": "99999999999999999999"})
    assert answer.status_code == 422, answer.status_code


async def test_editing_a_trial_with_a_forged_current_service_answers_the_form(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    customer_id, trial_id = await a_trial(client, sessionmaker, team, ["MESSAGING"])
    token = await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    answer = await client.post(f"/customers/{customer_id}/trials/{trial_id}/edit",
                               data={"csrf_token": token, "current": ["", "NOT_A_SERVICE"], "services": "MESSAGING",
                                     "version": "1", "licenseCount": "3"})
    assert answer.status_code < 500


async def test_the_wizard_does_not_skip_the_customer_step_when_the_step_field_is_forged(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    token = await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    for path in ("/trials/new", "/trials/existing"):
        answer = await client.post(path, data={"csrf_token": token, "step": "services", "go": "next"})
        assert answer.status_code == 422 and "Enter the company name." in answer.text, path
    wrong = await client.post("/trials/existing", data={
        "csrf_token": token, "step": "services", "go": "next", "companyName": "X", "adminEmail": "not an email",
        "businessVertical": "Education", "country": "NO", "supportedLocationConfirmed": "on", "services": "MESSAGING",
        "licenseCount": "3", "durationDays": "30"})
    assert wrong.status_code == 422 and 'name="step" value="customer"' in wrong.text


async def test_signing_in_with_a_nul_in_the_email_is_refused_like_any_wrong_email(client, sessionmaker):
    token = csrf_of((await client.get("/login")).text)
    answer = await client.post("/login", data={"csrf_token": token, "email": "a\x00@b.example", "password": "x"})
    assert answer.status_code == 400 and "Wrong email or password." in answer.text
    token = csrf_of((await client.get("/my/login")).text)
    asked = await client.post("/my/login", data={"csrf_token": token, "email": "a\x00@b.example"})
    assert asked.status_code == 200


def _filler(type_, id_value: str):
    """A value for an argument of `type_`: `id_value` for every ID (in lists and input objects too),
    something well-typed for the rest; None for an optional argument (left out)."""
    from graphql import (GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull,
                         GraphQLScalarType)

    if not isinstance(type_, GraphQLNonNull):
        return id_value if getattr(type_, "name", None) == "ID" else None
    inner = type_.of_type
    if isinstance(inner, GraphQLList):
        value = _filler(inner.of_type, id_value)
        return [] if value is None else [value]
    if isinstance(inner, GraphQLEnumType):
        return next(iter(inner.values))
    if isinstance(inner, GraphQLInputObjectType):
        fields = {name: _filler(f.type, id_value) for name, f in inner.fields.items()}
        return {k: v for k, v in fields.items() if v is not None}
    assert isinstance(inner, GraphQLScalarType)
    return {"ID": id_value, "String": "x", "Int": 1, "Float": 1.0, "Boolean": False,
            "Date": "2026-01-05", "DateTime": "2026-01-05T00:00:00Z"}.get(inner.name, "x")


def _takes_an_id(type_) -> bool:
    from graphql import GraphQLInputObjectType, get_named_type

    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        return any(_takes_an_id(f.type) for f in named.fields.values())
    return named.name == "ID"


async def test_an_id_out_of_the_64_bit_range_answers_like_a_missing_one_never_a_500(client, sessionmaker):
    """Found beside the trials-team fuzz (a decoded key is any integer; the fuzzer's random IDs never
    decode): `revokeApiToken`, `trial`, `node`, `cancelTrial`, `requestReturnLabel` and ~30 more
    fields answered INTERNAL_SERVER_ERROR (on PostgreSQL with the SQL statement in the message) for
    a global ID whose key no BIGINT holds. Every query and mutation taking an ID (itself, in a list
    or an input object), given such an ID of every Node type, as a partner full admin, a sales full
    admin and a trials-team user: never a 500, never INTERNAL_SERVER_ERROR."""
    from graphql import build_schema

    from server.schema.node import to_global_id
    from tests.conftest import ROOT

    schema = build_schema((ROOT / "schema.graphql").read_text())
    node_types = sorted(t.name for t in schema.type_map.values()
                        if any(i.name == "Node" for i in getattr(t, "interfaces", None) or []))
    team = await factories.partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN, Role.SALES_FULL_ADMIN])
    tokens = [*team.tokens.values(), await factories.trials_team_token(sessionmaker)]
    failures, asked = [], 0
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        for name, field in root.fields.items():
            if not any(_takes_an_id(a.type) for a in field.args.values()):
                continue
            declared = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
            passed = ", ".join(f"{a}: ${a}" for a in field.args)
            query = f"{kind}({declared}) {{ {name}({passed}) {{ __typename }} }}"
            for i, type_name in enumerate(node_types):
                pk = (2**63, -2**63 - 1, 10**30)[i % 3]
                variables = {a: _filler(arg.type, to_global_id(type_name, pk)) for a, arg in field.args.items()}
                for token in tokens:
                    asked += 1
                    answer = await client.post("/graphql", json={"query": query, "variables": variables}, headers={
                        "authorization": f"Bearer {token}", "accept": "application/graphql-response+json"})
                    if answer.status_code >= 500 or "INTERNAL_SERVER_ERROR" in answer.text:
                        failures.append((name, type_name, pk, answer.text[:200]))
    assert asked > 500 and failures == [], failures[:5]
