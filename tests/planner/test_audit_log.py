"""R-AUDIT-01 on the read planner: `auditLog` is one planned keyset page (the domain's page and count
statements, server.domain.core.audit_log) that answers like the reference path for every actor,
filter and cursor — planned where the reference answers data, handed back where it answers an
error (FORBIDDEN for a customer admin, a bad cursor, a time without its offset, `first` out of
range) — with one statement text per filter shape whatever the values.
"""
from __future__ import annotations

from datetime import timedelta

import orjson

from server import clock
from server.db.models import AuditEvent
from server.enums import Role
from server.planner.execute import Text
from server.planner.run import Planner
from server.schema.node import to_global_id
from tests.helpers import both_paths
from tests.planner.test_documents import _arrange_detail, _detail_actors

LOG = """query Q($first: Int, $after: String, $filter: AuditLogFilter) {
  viewer { email }
  auditLog(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } __typename
    edges { cursor node { at actor action subjectType customer { id name adminEmail } before after clientAddress } }
  }
}"""


async def _arrange(sessionmaker):
    """`_arrange_detail`'s partners, customers and events, plus Alpha's people's own events (no
    customer), a family with `_` and `%` in its name, events at the same moment (the keyset's id)."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    now = clock.now()
    async with sessionmaker() as db, db.begin():
        for n in range(12):
            db.add(AuditEvent(at=now - timedelta(minutes=n // 3), actor="partner_user:ada@alpha.example" if n % 2 else
                              "token:7", action=["session.signed_in", "trial.extended", "a_b.c", "a%b.c"][n % 4],
                              subject_type="User", subject_id=n, partner_id=a.partner_id,
                              customer_id=[None, full_id, acme_id][n % 3], before={"n": n, "z": [1, 2]},
                              after=None if n % 2 else {"ends_at": "2026-02-01"},
                              client_address="192.0.2.7" if n % 4 == 0 else None))
    return a, b, c, acme_id, full_id, trial_id, names, now


def _filters(full_id: int, now) -> list:
    return [None, {}, {"actor": "ADA@alpha.example"}, {"actor": "token:7"}, {"actor": "  "},
            {"action": "trial"}, {"action": "session.signed_in"}, {"action": "a_b"}, {"action": "a%b"},
            {"action": "a"}, {"customerId": to_global_id("Customer", full_id)}, {"customerId": "not-an-id"},
            {"since": (now - timedelta(minutes=2)).isoformat()}, {"until": (now - timedelta(minutes=1)).isoformat()},
            {"since": "2026-01-01T00:00:00"},  # no offset: the reference's INVALID_INPUT
            {"actor": "token:7", "action": "trial", "customerId": to_global_id("Customer", full_id),
             "since": (now - timedelta(days=3)).isoformat(), "until": (now + timedelta(minutes=1)).isoformat()}]


async def test_r_audit_01_the_planned_audit_log_answers_like_the_reference_for_every_actor(postgres, sessionmaker):
    a, b, c, acme_id, full_id, trial_id, names, now = await _arrange(sessionmaker)
    planner = postgres.state.planner
    planned_pages = walked = 0
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for filter_ in _filters(full_id, now):
            for first in (None, 2, 0, 101):
                after, pages = None, 0
                while pages < 3:
                    variables = {"first": first, "after": after, "filter": filter_}
                    body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents,
                                                             actor, LOG, variables, "Q")
                    assert orjson.dumps(planned) == orjson.dumps(body), (actor, variables)
                    planned_pages += answer is not None and any(r.name == "auditLog" for r in answer.answered)
                    page = (body.get("data") or {}).get("auditLog")
                    if not page or not page["pageInfo"]["hasNextPage"]:
                        break
                    after, pages = page["pageInfo"]["endCursor"], pages + 1
                    walked += 1
        for cursor in ("not-a-cursor", "WyJhdWRpdCIsIngiLDFd"):
            body, planned, _ = await both_paths(postgres.state, planner, postgres.state.documents, actor, LOG,
                                                {"after": cursor}, "Q")
            assert orjson.dumps(planned) == orjson.dumps(body)
    assert planned_pages > 100 and walked > 30, (planned_pages, walked)


async def test_r_audit_01_a_planned_audit_log_page_is_one_statement_text_whatever_the_values(postgres,
                                                                                              sessionmaker):
    """Pages that differ only in values (page size, cursor, an actor, a family, a customer, times) run
    the same prepared text: each new filter shape is one text."""
    a, b, c, acme_id, full_id, trial_id, names, now = await _arrange(sessionmaker)
    admin = next(x for x in _detail_actors(a, b, c, acme_id, full_id)
                 if x.partner_id == a.partner_id and x.roles == frozenset({Role.PARTNER_FULL_ADMIN}))
    planner = Planner(postgres.state.graphql_schema)  # its own statements only (the app's is shared in this module)
    first_page = None
    for variables in ({"first": 2, "filter": {"action": "trial", "since": (now - timedelta(days=9)).isoformat()}},
                      {"first": 5, "filter": {"action": "a_b", "since": (now - timedelta(minutes=1)).isoformat()}},
                      {"first": 1, "filter": {"action": "%", "since": now.isoformat()}}):
        body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, admin, LOG,
                                                 variables, "Q")
        assert answer is not None and answer.complete and planned == body
        first_page = first_page or body["data"]["auditLog"]["pageInfo"]["endCursor"]
    for after in (first_page, None):
        body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, admin, LOG,
                                                 {"first": 3, "after": after, "filter": {"actor": "a@b.example"}}, "Q")
        assert answer is not None and answer.complete and planned == body
    prepared = [statement for statement, _ in planner.plans[(LOG, "Q")].statements.values() if statement is not None]
    assert all(isinstance(p.text, Text) for p in prepared)
    assert len({p.text.sql for p in prepared}) == 3, [p.text.sql for p in prepared]  # action + since; actor (an email: 4 names) with and without a cursor
