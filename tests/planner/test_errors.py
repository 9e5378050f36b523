"""Issue 25: the planner answers the root fields the reference path answers with an error itself, as
the reference does (server.planner.refusals): a signed-out caller (the permission class's error, null
at the root's key, `data` null for a non-null root), arguments refused whoever asks (literal or
variable), an object out of reach, a FORBIDDEN (audited once, R-ROLE-02); merged with the reference
path's errors in graphql-core's order when the reference answers the rest. Bodies compared whole
(data and errors, the list's order too) with the reference path alone. PostgreSQL only, like the planner.
"""
from __future__ import annotations

import orjson
from sqlalchemy import func, select

from server.db.models import AuditEvent
from server.domain.core.actor import ANONYMOUS, Actor, ActorKind
from server.enums import Role
from tests.helpers import both_paths
from tests.planner.test_documents import _arrange_detail, _detail_actors

TRIALS_TEAM = Actor(kind=ActorKind.TRIALS_TEAM, roles=frozenset({Role.TRIALS_TEAM}), email="trials@platform.example")


async def _same(app, actor, text: str, variables: dict | None = None, name: str = "Q"):
    """(the reference path's body, the planner's Answer), the planned path's body equal to it, byte for byte."""
    body, planned, answer = await both_paths(app.state, app.state.planner, app.state.documents, actor, text,
                                             variables or {}, name)
    assert orjson.dumps(planned) == orjson.dumps(body), (planned, body)
    return body, answer


async def test_a_signed_out_caller_is_answered_by_the_planner_without_a_read(postgres, sessionmaker):
    """The permission class's error at each guarded root (message and extensions read from the Strawberry
    field), null there, `data` null when the root is non-null; public roots answered beside; no read, and
    the answer kept with the plan for the next signed-out call."""
    await _arrange_detail(sessionmaker)
    planner = postgres.state.planner
    body, answer = await _same(postgres, ANONYMOUS, "query Q { viewer { email } }")
    assert body == {"errors": [{"message": "Sign in or send a bearer token.", "locations": [{"line": 1, "column": 11}],
                                "path": ["viewer"], "extensions": {"code": "UNAUTHENTICATED"}}], "data": None}
    assert answer.complete and answer.constant
    text = "query Q { trialDurations c: customer(id: \"x\") { name } t: trial(id: \"y\") { id } deviceCatalog { model } }"
    before = planner.roots.copy()
    body, answer = await _same(postgres, ANONYMOUS, text)
    assert [e["path"] for e in body["errors"]] == [["c"], ["t"]] and body["data"]["c"] is None
    assert answer.complete and not answer.constant  # deviceCatalog reads
    assert planner.roots - before == {("trialDurations", "planner"): 1, ("customer", "planner"): 1,
                                      ("trial", "planner"): 1, ("deviceCatalog", "planner"): 1}
    # an undeclared root field too (the permission class comes first), and a synchronous non-null one:
    # graphql-core stops at it, the other fields' errors are not reported
    for text in ("query Q { a: siteUrlAvailable(name: \"x\") { available } viewer { email } }",
                 "query Q { customer(id: \"x\") { name } webhookEventTypes viewer { email } }"):
        body, answer = await _same(postgres, ANONYMOUS, text)
        assert answer.complete and body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["webhookEventTypes"]]
    assert planner.refusals[("viewer", "UNAUTHENTICATED")] >= 2


async def test_a_signed_out_answer_kept_with_the_plan_is_keyed_by_the_variables_types_too(postgres, sessionmaker):
    """`1` and `true` are equal in Python but not as GraphQL variables: the answer kept for `$n: 1` (a
    signed-out caller's, no read) is not given to `$n: true`, which is the reference's variables error."""
    await _arrange_detail(sessionmaker)
    text = "query Q($n: Int) { viewer { email } customers(first: $n) { totalCount } }"
    body, answer = await _same(postgres, ANONYMOUS, text, {"n": 1})
    assert answer.complete and answer.constant and body["data"] is None
    body, answer = await _same(postgres, ANONYMOUS, text, {"n": True})
    assert answer is None and "Int cannot represent" in body["errors"][0]["message"], body


async def test_arguments_refused_whoever_asks_are_answered_by_the_planner(postgres, sessionmaker):
    """A malformed cursor or `first` out of range, literal (decided with the plan) or a variable: the
    reference's error (raised by the same domain functions), without a read."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    actor = _detail_actors(a, b, c, acme_id, full_id)[0]
    literal = 'query Q { customers(after: "not-a-cursor") { totalCount } n: customer(id: "x") { id } }'
    body, answer = await _same(postgres, actor, literal)
    assert answer.complete and body["data"] is None and body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    variable = "query Q($first: Int, $after: String) { customers(first: $first, after: $after) { totalCount } }"
    for values in ({"first": 1000}, {"first": -1}, {"after": "not-a-cursor"}, {"first": 2}):
        body, answer = await _same(postgres, actor, variable, values)
        assert answer.complete and (body["data"] is None) == (values != {"first": 2}), values


async def test_partial_plans_merge_both_sides_errors_in_graphql_cores_order(postgres, sessionmaker, monkeypatch):
    """The planner's errors and the reference path's (a root field it hands back: existingOrganization's
    refusal of a malformed email, its declaration taken away) in one list as graphql-core orders them: a
    nullable root's error as it comes, a non-null root's failure nulls `data` and comes last (only the first
    such in the document's order is reported), whichever side answered it; and the same answers with the
    declaration (server.planner.calls: the planner answers that refusal too)."""
    from tests.planner.test_metrics import undeclared

    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    actor = _detail_actors(a, b, c, acme_id, full_id)[0]
    rest = 'e: existingOrganization(adminEmail: "not an email") { name }'
    weeks = "w: trialsByWeek(weeks: 0) { conversionRate }"
    cursor = 'c: customers(after: "not-a-cursor") { totalCount }'
    cases = ((f"query Q {{ {rest} {weeks} viewer {{ email }} }}", [["e"], ["w"]]),
             (f"query Q {{ {weeks} {rest} {cursor} }}", [["e"], ["w"]]),
             (f"query Q {{ {cursor} {rest} {weeks} }}", [["e"], ["c"]]),
             (f"query Q {{ {rest} customers(first: 1) {{ totalCount }} }}", [["e"]]))
    with monkeypatch.context() as patch:
        undeclared(patch, "existingOrganization")
        for text, paths in cases:
            body, answer = await _same(postgres, actor, text + " ")  # a plan of its own
            assert answer is not None and [r.key for r in answer.rest] == ["e"], (text, body)
            assert [e["path"] for e in body["errors"]] == paths and (body["data"] is None) == (len(paths) > 1), body
    for text, paths in cases:
        body, answer = await _same(postgres, actor, text)
        assert answer is not None and answer.complete, (text, body)
        assert [e["path"] for e in body["errors"]] == paths and (body["data"] is None) == (len(paths) > 1), body
    body, answer = await _same(postgres, ANONYMOUS, f"query Q {{ {rest} {weeks} {cursor} trialDurations }}")
    assert answer.complete and [e["path"] for e in body["errors"]] == [["e"], ["w"]]  # non-null: the first


async def test_r_role_02_planned_denial_is_audited(postgres, sessionmaker):
    """A FORBIDDEN the planner answers (the trials team's audit log) writes exactly one
    `permission.denied` row, as the reference path does, through the same function
    (server.resolvers.answer.graphql_error), on the request's write sessionmaker."""
    from server import graphql_http
    from server.planner.execute import Reading
    from server.schema.context import Context

    await _arrange_detail(sessionmaker)
    state, text = postgres.state, "query Q { auditLog { totalCount } viewer { email } }"
    document = state.documents.get(text)[0]

    async def denials() -> int:
        async with sessionmaker() as db:
            return await db.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "permission.denied"))

    before = await denials()
    reading = Reading(sessionmaker=state.read_sessionmaker, settings=state.settings, actor=TRIALS_TEAM,
                      write_sessionmaker=state.sessionmaker)
    answer = await state.planner.run(reading, text, document, document.definitions[0], {}, "Q")
    await reading.close()
    planned = graphql_http.planned_body(answer)
    assert answer.complete and "auditLog" not in answer.valued and await denials() == before + 1
    context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=TRIALS_TEAM)
    _, body, _ = await graphql_http.run(state.graphql_schema, state.documents, context, text, {}, "Q")
    assert await denials() == before + 2 and orjson.dumps(planned) == orjson.dumps(body)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and body["data"] is None


async def test_r_role_02_a_denial_the_planner_answers_over_http_is_audited_once(postgres, client, sessionmaker):
    """Over `/graphql` with a bearer token (the first request reads the token apart, the next ones in the
    planner's statement, built for the actor it gave last time): each FORBIDDEN the planner answers
    (partnerUsers for a read-only role) writes one `permission.denied` row, on the write sessionmaker."""
    from tests import factories
    from tests.helpers import gql

    team = await factories.partner_team(sessionmaker, "Alpha")

    async def denials() -> int:
        async with sessionmaker() as db:
            return await db.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "permission.denied"))

    before, counted = await denials(), postgres.state.planner.refusals.copy()
    for call in range(1, 4):
        body = await gql(client, "{ partnerUsers { email } viewer { email } }", token=team.tokens[Role.READ_ONLY])
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert await denials() == before + call
    assert postgres.state.planner.refusals - counted == {("partnerUsers", "FORBIDDEN"): 3}


async def test_r_role_02_no_denial_is_written_for_a_revoked_token_s_guessed_actor(postgres, client, sessionmaker):
    """The planner's statement built for the actor a bearer token gave last time: a FORBIDDEN it answers
    for that guess writes no denial once the token is revoked (the request is then answered signed out,
    as the reference path answers it: no denial either)."""
    from sqlalchemy import update

    from server import clock
    from server.auth.tokens import hash_token
    from server.db.models import ApiToken
    from tests.helpers import gql
    from tests.planner.test_token_in_statement import _two_role_token

    token, _, _ = await _two_role_token(sessionmaker)  # sales roles: partnerUsers is FORBIDDEN
    text = "{ partnerUsers { email } customers(first: 1) { totalCount } }"

    async def denials() -> int:
        async with sessionmaker() as db:
            return await db.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "permission.denied"))

    for call in range(1, 3):
        assert (await gql(client, text, token=token))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await denials() == call
    async with sessionmaker() as db, db.begin():
        await db.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token)).values(revoked_at=clock.now()))
    body = await gql(client, text, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and await denials() == 2


async def test_every_stored_document_for_every_actor_is_answered_by_the_planner_like_the_reference(
        postgres, sessionmaker):
    """bench.planner_ratio's stored pairs: every stored query document, every actor of the property
    test's arrangement (signed out too), its page's variables (IDs in reach and out of it): answered by
    the planner, whole, with the reference path's body (each root's error as its resolver answers it)."""
    from graphql import OperationType, get_operation_ast

    from bench.planner_ratio import _stored_variables
    from server.pages.operations import read_operations
    from tests.planner.test_property import _bench

    bench = await _bench(postgres, sessionmaker)
    everyone = [actor for group in bench.groups for actor in group]
    compared = 0
    for name, text in read_operations().items():
        document = postgres.state.documents.get(text)[0]
        if get_operation_ast(document, name).operation is not OperationType.QUERY:
            continue
        for index, actor in enumerate(everyone):
            body, planned, answer = await both_paths(postgres.state, postgres.state.planner, postgres.state.documents,
                                                     actor, text, _stored_variables(name, text, bench.pools, index),
                                                     name)
            assert orjson.dumps(planned) == orjson.dumps(body), (name, actor)
            assert answer is not None and answer.complete, (name, actor, postgres.state.planner.fallbacks)
            compared += 1
    assert compared >= 500
