"""The read planner never loses to the reference path: every planned statement is prepared once per
shape (argument values, the moment, search patterns and cursors are bound parameters, so two calls
that differ only in values run the same SQL text on the driver); a query mixing plannable root fields
with others is answered partly by each path, merged in the document's order with the reference's
errors; `search` matches `%` and `_` literally on both paths.
"""
from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from server import clock
from server.db.models.trials import Trial
from server.domain.orgs import directory
from server.domain.core.actor import Actor, ActorKind
from server.enums import Role
from server.planner.execute import Text
from server.schema.node import to_global_id
from tests import factories
from tests.helpers import both_paths, gql

LIST = """query Q($search: String, $after: String, $first: Int, $days: Int, $prov: ProvisioningStatus,
                  $order: CustomerOrder!, $status: SubscriptionStatus) {
  customers(search: $search, after: $after, first: $first, expiringWithinDays: $days, provisioningStatus: $prov,
            orderBy: $order, status: $status) {
    totalCount edges { cursor node { name subscriptionStatus trials { daysLeft } } } pageInfo { hasNextPage endCursor }
  }
}"""
BY_ID = """query Q($c: ID!, $t: ID!, $n: ID!, $p: ID!) {
  customer(id: $c) { name } trial(id: $t) { state } node(id: $n) { id ... on Customer { name } }
  partner: node(id: $p) { id } auditEvents(customerId: $c) { action }
}"""


async def _arrange(sessionmaker):
    alpha = await factories.partner_team(sessionmaker, "Alpha")
    beta = await factories.partner_team(sessionmaker, "Beta")
    now = clock.now()
    ids: dict[str, int] = {}
    async with sessionmaker() as db, db.begin():
        for n, name in enumerate(["100% Pure", "Under_score Co", "Plain Co", "Back\\slash AS", "Percent Free",
                                  "Underscore Free", "Zeta", "Eta", "Theta"]):
            customer = await directory.create_customer(db, name, "NO", f"admin{n}@c{n}.example",
                                                       managed_by=alpha.partner_id)
            ids[name] = customer.id
            if n % 3 != 2:  # some without a trial: the DAYS_LEFT order's null tail
                db.add(Trial(customer_id=customer.id, partner_id=alpha.partner_id, kind="EXISTING_CUSTOMER",
                             state="ACTIVE", license_count=10, duration_days=90, starts_at=now - timedelta(days=5),
                             ends_at=now + timedelta(days=10 + 20 * n), created_at=now))
        ids["beta"] = (await directory.create_customer(db, "Beta Co", "NO", "x@beta.example",
                                                       managed_by=beta.partner_id)).id
        await db.flush()
        ids["trial"] = (await db.scalar(Trial.__table__.select().with_only_columns(Trial.id).limit(1)))
    actor = Actor(kind=ActorKind.PARTNER_USER, user_id=alpha.user_ids[Role.PARTNER_FULL_ADMIN],
                  partner_id=alpha.partner_id, roles=frozenset({Role.PARTNER_FULL_ADMIN}),
                  email=alpha.emails[Role.PARTNER_FULL_ADMIN])
    return alpha, beta, ids, actor


def _texts(planner, text: str) -> set:
    """The SQL texts of the statements the planner keeps for this document (one per shape)."""
    plan = planner.plans[(text, "Q")]
    prepared = [statement for statement, _ in plan.statements.values() if statement is not None]
    assert all(isinstance(p.text, Text) for p in prepared), "a planned statement did not run as prepared text"
    return {p.text.sql for p in prepared}


async def _answer(app, actor, text: str, variables: dict) -> dict:
    body, planned, answer = await both_paths(app.state, app.state.planner, app.state.documents, actor, text,
                                             variables, "Q")
    assert answer is not None and answer.complete, (variables, app.state.planner.fallbacks)
    assert orjson.dumps(planned) == orjson.dumps(body), variables
    return body["data"]


async def test_a_planned_statement_is_one_text_whatever_the_argument_values(postgres, sessionmaker):
    """Pairs of calls that differ only in values (search terms with and without `%`/`_`, cursors with a
    date and at the null tail, page sizes, expiry horizons, provisioning statuses, IDs of reachable and
    unreachable objects, another clock moment) run one statement text, prepared on the driver."""
    app = postgres
    alpha, beta, ids, actor = await _arrange(sessionmaker)
    for order in ("NAME", "DAYS_LEFT"):
        base = {"order": order, "first": 2}
        first_page = await _answer(app, actor, LIST, base)
        cursors = [first_page["customers"]["pageInfo"]["endCursor"]]
        page = await _answer(app, actor, LIST, {**base, "first": 7, "after": cursors[0]})
        cursors.append(page["customers"]["pageInfo"]["endCursor"])  # DAYS_LEFT: in the null tail
        calls = [{"search": "co", "after": cursors[0], "first": 3, "days": 50, "prov": "PROVISIONED"},
                 {"search": "%_", "after": cursors[1], "first": 1, "days": 4000, "prov": "PROVISIONING"},
                 {"search": "\\", "after": cursors[1], "first": 0, "days": -3, "prov": "UNABLE_TO_PROVISION"}]
        before = _texts(app.state.planner, LIST)
        for call in calls:
            await _answer(app, actor, LIST, {**base, **call, "status": "TRIAL_ACTIVE"})
        async with sessionmaker() as db, db.begin():
            await clock.advance(db, timedelta(days=40))  # another moment: bound too
        await _answer(app, actor, LIST, {**base, **calls[0], "status": "TRIAL_ACTIVE"})
        assert len(_texts(app.state.planner, LIST) - before) == 1, order
    reachable = {"c": to_global_id("Customer", ids["Zeta"]), "t": to_global_id("Trial", ids["trial"]),
                 "n": to_global_id("Customer", ids["Eta"]), "p": to_global_id("Partner", alpha.partner_id)}
    data = await _answer(app, actor, BY_ID, reachable)
    assert data["partner"] == {"id": reachable["p"]} and data["customer"] == {"name": "Zeta"}
    data = await _answer(app, actor, BY_ID, {"c": to_global_id("Customer", ids["Plain Co"]),
                                             "t": to_global_id("Trial", 10**9), "n": to_global_id("Customer", ids["beta"]),
                                             "p": to_global_id("Partner", beta.partner_id)})
    assert data["partner"] is None and data["node"] is None and data["trial"] is None
    assert len(_texts(app.state.planner, BY_ID)) == 1


@pytest.mark.parametrize("term, names", [
    ("%", ["100% Pure"]), ("_", ["Under_score Co"]), ("0%", ["100% Pure"]), ("n_c", []), ("\\", ["Back\\slash AS"]),
    ("  CO ", ["Plain Co", "Under_score Co", "Underscore Free"]),
])
async def test_r_org_02_search_matches_percent_and_underscore_literally(app, client, sessionmaker, term, names):
    """`customers(search:)` finds the term anywhere in the name or admin email, `%`, `_` and `\\` as
    themselves (not LIKE's wildcards), on both paths (the planner on PostgreSQL, the reference on SQLite)."""
    alpha, *_ = await _arrange(sessionmaker)
    body = await gql(client, '{ customers(search: %s) { totalCount edges { node { name } } } }' % orjson.dumps(term).decode(),
                     token=alpha.tokens[Role.SALES_FULL_ADMIN])
    assert "errors" not in body, body
    found = sorted(edge["node"]["name"] for edge in body["data"]["customers"]["edges"])
    assert found == names and body["data"]["customers"]["totalCount"] == len(names)


MIXED = """query Q($id: ID!) {
  first: __typename
  weeks: siteUrlAvailable(name: "acme") { available valid }
  customers(first: 2) { edges { node { name } } }
  missing: customer(id: $id) { name }
  viewer { email }
  history: auditEvents(customerId: $id) @include(if: $failing) { action }
}"""
SIGNED_OUT = """query Q($id: ID!) { trialDurations customer(id: $id) { name } deviceCatalog { model } }"""


async def test_a_query_mixing_planned_and_unplanned_root_fields_is_answered_by_both(postgres, sessionmaker,
                                                                                    monkeypatch):
    """`siteUrlAvailable` has no declaration (taken away here: every root field has one), `auditEvents` of a customer out of reach is the reference's
    NOT_FOUND error (non-null: the whole `data` is null), a signed-out caller's `customer` its
    UNAUTHENTICATED error: those go to the reference path, the other root fields are planned, and the
    answer is the reference's, byte for byte (data in the document's order, errors at their paths);
    the counters say which root field went which way."""
    from tests.planner.test_metrics import undeclared

    undeclared(monkeypatch)
    app = postgres
    alpha, beta, ids, actor = await _arrange(sessionmaker)
    planner = app.state.planner
    text = MIXED.replace("query Q($id: ID!)", "query Q($id: ID!, $failing: Boolean!)")
    before = planner.roots.copy()
    variables = {"id": to_global_id("Customer", ids["beta"])}
    body, planned, answer = await both_paths(app.state, planner, app.state.documents, actor, text,
                                             {**variables, "failing": False}, "Q")
    assert orjson.dumps(planned) == orjson.dumps(body) and "errors" not in body
    assert list(planned["data"]) == ["first", "weeks", "customers", "missing", "viewer"]
    assert [r.key for r in answer.rest] == ["weeks"] and len(planned["data"]["customers"]["edges"]) == 2
    counted = planner.roots - before
    assert counted[("customers", "planner")] == 1 and counted[("siteUrlAvailable", "reference")] == 1
    assert counted[("customer", "planner")] == 1 and counted[("viewer", "planner")] == 1

    body, planned, answer = await both_paths(app.state, planner, app.state.documents, actor, text,
                                             {**variables, "failing": True}, "Q")
    assert orjson.dumps(planned) == orjson.dumps(body) and body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["history"]]
    assert [r.key for r in answer.rest] == ["weeks"]  # the NOT_FOUND is the planner's (the domain's error)

    from server.domain.core.actor import ANONYMOUS

    body, planned, answer = await both_paths(app.state, planner, app.state.documents, ANONYMOUS, SIGNED_OUT,
                                             variables, "Q")
    assert orjson.dumps(planned) == orjson.dumps(body)
    assert list(body["data"]) == ["trialDurations", "customer", "deviceCatalog"] and body["data"]["customer"] is None
    assert [e["path"] for e in body["errors"]] == [["customer"]] and answer.complete  # the planner answers it
    assert answer.valued == {"trialDurations", "deviceCatalog"}


BAD_CURSOR = 'query Q { customers(after: "not-a-cursor") { totalCount } __typename }'
CONSTANTS = "query Q { trialDurations businessVerticals __typename }"


async def test_a_query_the_reference_answers_whole_costs_one_lookup(postgres, sessionmaker):
    """What the reference path answers whole is decided from the plan before any per-request work
    (`graphql_http.prepare`: no Context, no connection, no variable coercion): an operation that read
    nothing for this actor the last time. Literal arguments refused for everyone (a malformed cursor)
    and a signed-out caller are the planner's, answered with the reference's error without a read (a
    signed-out caller's answer kept with the plan); an operation of constants only is the planner's
    (no read, no statement); a root field the data refuses (a customer out of reach, a malformed ID) is
    the planner's too, with the domain's NOT_FOUND."""
    from server import graphql_http
    from server.domain.core.actor import ANONYMOUS

    app = postgres
    alpha, beta, ids, actor = await _arrange(sessionmaker)
    planner, documents = app.state.planner, app.state.documents
    for who in (actor, ANONYMOUS):
        assert graphql_http.prepare(planner, documents, BAD_CURSOR, "Q", who).planned  # whoever asks
        body, planned, answer = await both_paths(app.state, planner, documents, who, BAD_CURSOR, {}, "Q")
        assert answer.complete and orjson.dumps(planned) == orjson.dumps(body) and body["data"] is None
        assert [e["path"] for e in body["errors"]] == [["customers"]]
        assert body["errors"][0]["extensions"]["code"] == ("INVALID_INPUT" if who is actor else "UNAUTHENTICATED")
    assert [statement for statement, _ in planner.plans[(BAD_CURSOR, "Q")].statements.values()] == [None, None]

    signed_out = 'query Q { customer(id: "%s") { name } }' % to_global_id("Customer", ids["Zeta"])
    assert graphql_http.prepare(planner, documents, signed_out, "Q", ANONYMOUS).planned
    for _ in range(2):  # the second from the plan (`Plan.constants`)
        body, planned, answer = await both_paths(app.state, planner, documents, ANONYMOUS, signed_out, {}, "Q")
        assert answer.complete and answer.constant and orjson.dumps(planned) == orjson.dumps(body)
        assert body["data"] == {"customer": None} and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert list(planner.plans[(signed_out, "Q")].constants) == [()]
    assert [statement for statement, _ in planner.plans[(signed_out, "Q")].statements.values()] == [None]
    assert graphql_http.prepare(planner, documents, signed_out, "Q", actor).planned

    for who in (actor, ANONYMOUS):
        assert graphql_http.prepare(planner, documents, CONSTANTS, "Q", who).planned
        body, planned, answer = await both_paths(app.state, planner, documents, who, CONSTANTS, {}, "Q")
        assert answer is not None and answer.complete and orjson.dumps(planned) == orjson.dumps(body)
    assert [statement for statement, _ in planner.plans[(CONSTANTS, "Q")].statements.values()] == [None, None]

    out_of_reach = 'query Q { auditEvents(customerId: "%s") { action } }' % to_global_id("Customer", ids["beta"])
    by_variable = "query Q($id: ID!) { auditEvents(customerId: $id) { action } }"
    before = planner.refusals.copy()
    for text, values in ((out_of_reach, {}), (by_variable, {"id": to_global_id("Customer", ids["beta"])}),
                         (by_variable, {"id": "not-an-id"}), (by_variable, {"id": to_global_id("Customer", ids["Zeta"])})):
        for _ in range(2):  # the domain's NOT_FOUND (visibility.missing_customer), answered by the planner each time
            assert graphql_http.prepare(planner, documents, text, "Q", actor, values).planned
            body, planned, answer = await both_paths(app.state, planner, documents, actor, text, values, "Q")
            assert answer.complete and orjson.dumps(planned) == orjson.dumps(body)
    assert planner.refusals - before == {("auditEvents", "NOT_FOUND"): 6}


async def test_metrics_count_root_fields_by_path(app, client, sessionmaker, monkeypatch):
    """/metrics: `trialdesk_planner_root_fields_total{field, path}` — a root field planned beside one
    that is not is counted as planned."""
    from tests.planner.test_metrics import undeclared

    undeclared(monkeypatch)
    team = await factories.partner_team(sessionmaker, "Alpha")
    await gql(client, "{ viewer { email } siteUrlAvailable(name: \"acme\") { available } }", token=team.tokens[Role.SALES_ADMIN])
    text = (await client.get("/metrics")).text
    if app.state.planner is None:
        return
    assert 'trialdesk_planner_root_fields_total{field="viewer",path="planner"}' in text
    assert 'trialdesk_planner_root_fields_total{field="siteUrlAvailable",path="reference"}' in text


