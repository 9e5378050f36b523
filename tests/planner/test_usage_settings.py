"""Issue 25 item 3: the fields of our database left undeclared until now are planned, and the portal's
documents that ask them are answered whole by the planner, equal to the reference path for every actor:
`Partner.logoUrl` / `Partner.contactEmail` (R-SET-01 / R-BUY-01: the partner's settings as `settings.of`
reads them, defaults when the partner saved none) and `TrialAdoption.services` / `TrialAdoption.daily(days:)`
(R-USE-03: `adoption.service_figures` / `adoption.daily_series` over the rows each path reads).

PostgreSQL only (the planner). `arrange_usage` is shared with tests/planner/test_property.py (the generated
queries ask these fields too).
"""
from __future__ import annotations

from datetime import timedelta

import orjson
from graphql import get_operation_ast
from sqlalchemy import select, update

from server import clock
from server.db.models import PartnerSettings, Trial
from server.domain.partner_settings import settings as partner_settings
from server.domain.usage import partitions, storage
from server.domain.usage.lines import Activity, Assignment
from server.enums import Role
from server.pages.operations import read_operations
from server.schema.node import to_global_id
from tests.helpers import both_paths
from tests.planner.test_documents import _arrange_detail, _detail_actors

OPERATIONS = read_operations()
#: the stored documents that ask these fields: the portal's /my page and the customer page's usage
STORED = ("MyPage", "CustomerUsage")


async def arrange_usage(sessionmaker, a) -> None:
    """Usage of every customer org (activity today and in the last 45 days on three services, users on
    two services, idle rows, assigned licenses reported twice and before a start) and Alpha's settings
    (reply-to and a logo; Beta and Gamma keep the defaults: no row)."""
    today = clock.today()
    async with sessionmaker() as db, db.begin():
        await partitions.ensure_partitions(db, partitions.months_needed(today))
        orgs = sorted({pk for pk in await db.scalars(select(Trial.customer_id))})
        activities, assignments = [], []
        for n, org in enumerate(orgs):
            for ago in (0, 1, 2, 6, 8, 20, 29, 31, 45):
                day = today - timedelta(days=ago)
                for service, users in (("MEETINGS", 3 + n % 3), ("MESSAGING", 2), ("CALLING", 1 + n % 2)):
                    if (ago + n) % 4 == 3 and service != "MEETINGS":
                        continue
                    for u in range(users):
                        events = (u + ago + n) % 5          # 0: an idle row, not activity
                        activities.append(Activity(0, org, day, service, f"u{(u + ago) % 6}", events, events * 7))
            for ago, service, count in ((0, "MEETINGS", 9), (3, "MEETINGS", 8), (50, "MESSAGING", 4),
                                        (1, "CALLING", 2 + n)):
                assignments.append(Assignment(0, org, today - timedelta(days=ago), service, count))
        await storage.write(db, activities, assignments)
        row = await partner_settings.row_for_update(db, a.partner_id)
        row.reply_to, row.logo_hash, row.logo_type = "help@alpha.example", "ab" * 32, "image/png"


QUERY = """query Q($days: Int, $customer: ID!) {
  customers { edges { node { id managingPartner { name logoUrl contactEmail }
    trials { id adoption { health services { type activeUsers7d activeUsers30d events30d minutes30d
      assignedLicenses __typename } daily(days: $days) { day service activeUsers events minutes }
      three: daily(days: 3) { day service activeUsers } ...Default } } } } }
  viewer { partner { id logoUrl contactEmail name } }
  customer(id: $customer) { trials { adoption { d: daily { day } services { type a: activeUsers30d } } } }
}
fragment Default on TrialAdoption { dflt: daily { events } }"""


async def test_the_stored_documents_are_planned_whole_and_equal_to_the_reference(postgres, sessionmaker):
    """MyPage and CustomerUsage, for every actor and every customer: the planner answers them whole (no
    root field handed back where the reference answers data) and the same body as the reference."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    await arrange_usage(sessionmaker, a)
    planner = postgres.state.planner
    documents = postgres.state.documents
    whole, figures = 0, 0
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for name in STORED:
            text = OPERATIONS[name]
            document, _ = documents.get(text)
            assert planner.accepts(text, name, document, get_operation_ast(document, name)), name
            for customer in ([None] if name == "MyPage" else sorted(names.values())):
                variables = {} if customer is None else {"id": to_global_id("Customer", customer)}
                body, planned, answer = await both_paths(postgres.state, planner, documents, actor, text,
                                                         variables, name)
                assert orjson.dumps(planned) == orjson.dumps(body), (name, actor, customer)
                if "errors" not in body and actor.kind.value != "ANONYMOUS":
                    assert answer is not None and answer.complete, (name, actor, planner.fallbacks)
                    whole += 1
                    figures += orjson.dumps(body).count(b'"activeUsers30d":') - \
                        orjson.dumps(body).count(b'"activeUsers30d":0')
    assert whole >= 20 and figures > 0, (whole, figures)
    assert not {reason for reason in planner.fallbacks if "TrialAdoption" in reason or "Partner." in reason}


async def test_r_use_03_services_and_daily_with_any_days_answer_like_the_reference(postgres, sessionmaker):
    """The series' `days` as a variable (null, out of range both ways, a week) and literal beside it in
    one query, aliases and a fragment; a trial that has not started; the partner's logo and reply-to with
    and without settings; every actor. The statement is compiled once per value of `days` and its text
    does not change with it."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    await arrange_usage(sessionmaker, a)
    async with sessionmaker() as db, db.begin():
        await db.execute(update(Trial).where(Trial.id == trial_id).values(starts_at=None))
    planner = postgres.state.planner
    documents = postgres.state.documents
    answered, series = 0, set()
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for days in (None, 0, -3, 7, 30, 10_000):
            variables = {"days": days, "customer": to_global_id("Customer", full_id)}
            body, planned, answer = await both_paths(postgres.state, planner, documents, actor, QUERY, variables, "Q")
            assert orjson.dumps(planned) == orjson.dumps(body), (actor, days)
            if answer is not None and {"customers", "customer"} <= answer.valued:
                answered += 1
                series |= {len(t["adoption"]["daily"]) for e in body["data"]["customers"]["edges"]
                           for t in e["node"]["trials"]}
    assert answered >= 20 and len(series) >= 4, (answered, series, planner.fallbacks)
    texts = {statement.text.sql for statement, _ in planner.plans[(QUERY, "Q")].statements.values()
             if statement is not None and statement.text}
    actors = {key[0] for key in planner.plans[(QUERY, "Q")].statements}
    assert len(texts) <= len(actors), "the statement's text changed with the value of days"


async def test_r_set_01_a_partner_without_settings_has_no_logo_or_contact(postgres, sessionmaker):
    """Partner.logoUrl / contactEmail planned: null for a partner that never saved (no row), the values
    once saved, and null again when cleared (a row with nulls)."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    actor = next(x for x in _detail_actors(a, b, c, acme_id, full_id)
                 if x.partner_id == a.partner_id and x.roles == frozenset({Role.PARTNER_FULL_ADMIN}))
    text = "query P { viewer { partner { logoUrl contactEmail } } }"
    planner = postgres.state.planner

    async def partner():
        body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, actor, text,
                                                 None, "P")
        assert planned == body and answer is not None and answer.complete
        return body["data"]["viewer"]["partner"]
    assert await partner() == {"logoUrl": None, "contactEmail": None}
    async with sessionmaker() as db, db.begin():
        await partner_settings.update(db, actor, reply_to="Help@Alpha.example")
        await db.execute(update(PartnerSettings).where(PartnerSettings.partner_id == a.partner_id)
                         .values(logo_hash="cd" * 32, logo_type="image/svg+xml"))
    saved = await partner()
    assert saved["contactEmail"] == "help@alpha.example" and saved["logoUrl"].startswith("/") and "cd" * 32 in saved["logoUrl"]
    async with sessionmaker() as db, db.begin():
        await partner_settings.update(db, actor, reply_to="")
        await db.execute(update(PartnerSettings).where(PartnerSettings.partner_id == a.partner_id)
                         .values(logo_hash=None, logo_type=None))
    assert await partner() == {"logoUrl": None, "contactEmail": None}


REQUIREMENT = """query R($trialId: ID!) {
  callingRequirement(trialId: $trialId) { pstn licenses locations required assigned missing limit description
    __typename }
  also: callingRequirement(trialId: $trialId) { m: missing }
  viewer { email }
}"""


async def test_r_svc_03_calling_requirement_is_planned_like_the_reference(postgres, sessionmaker):
    """callingRequirement (issue 25 item 2): the domain's reads as one statement, decided by the same rule
    (`calling.requirement`); null where the reference answers null (out of reach, no Calling, an ID of
    another type or malformed); every PSTN option, live numbers counted (a released one not). Every actor,
    every trial. (A partner that may not read the org's details, R-EX-01, is decided by the same
    `calling.requirement` over `visibility.details_condition`: tests/calling.)"""
    from server.db.models.trials import TrialService

    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    async with sessionmaker() as db, db.begin():
        trials = list(await db.scalars(select(Trial.id).order_by(Trial.id)))
        plan_trial = await db.scalar(select(TrialService.trial_id).where(TrialService.service == "CALLING",
                                                                         TrialService.pstn.is_(None)))
        await db.execute(update(TrialService).where(TrialService.trial_id == plan_trial,
                                                    TrialService.service == "CALLING").values(pstn="CALLING_PLAN"))
    ids = [to_global_id("Trial", pk) for pk in trials] + [to_global_id("Customer", full_id), "not-an-id",
                                                          to_global_id("Trial", 10**12)]
    planner = postgres.state.planner
    planned, options = 0, set()
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for global_id in ids:
            body, answer_body, answer = await both_paths(postgres.state, planner, postgres.state.documents, actor,
                                                         REQUIREMENT, {"trialId": global_id}, "R")
            assert orjson.dumps(answer_body) == orjson.dumps(body), (actor, global_id)
            if answer is not None and "callingRequirement" in answer.valued:
                planned += 1
                found = body["data"]["callingRequirement"]
                if found is not None:
                    options.add((found["pstn"], found["assigned"] > 0))
    assert planned >= 50 and {"PARTNER_DIDS", "CALLING_PLAN", "CCP"} <= {pstn for pstn, _ in options} and \
        ("PARTNER_DIDS", True) in options, (planned, options, planner.fallbacks)
    assert "callingRequirement" not in {name for name in planner.fallbacks}


def test_every_stored_query_document_is_planned_whole():
    """No stored query document (web/operations) has a root field the planner cannot answer (since the four
    whose answer is a call of the domain's Python are planned too: server.planner.calls): a document that gains
    an undeclared field fails here, not only in a bench."""
    from graphql import OperationType, parse

    from server.planner.plans import Plan
    from server.schema.schema import schema

    blocked = {}
    for name, text in OPERATIONS.items():
        document = parse(text)
        operation = get_operation_ast(document, name)
        if operation.operation is OperationType.QUERY:
            plan = Plan(schema._schema, document, operation)
            if plan.blocked:
                blocked[name] = sorted(set(plan.blocked.values()))
    assert blocked == {}, blocked


DEMO = """query D($c: ID, $e: String, $n: [String!]) {
  demoOrders(customerOrgId: $c, adminEmail: $e, serialNumbers: $n) { id demoOrderNumber status items { serialNumber }
    trial { id } }
  viewer { email }
}"""


async def test_r_rma_03_demo_orders_are_planned_like_the_reference(postgres, sessionmaker):
    """demoOrders (issue 25 item 2): `demo_orders.condition` over the shipment rows, `lookup`'s values bound
    per call: by org and admin email (right, wrong, another case and spaces, alone), by serial numbers (trimmed,
    any case, another partner's), both, none, too many (the reference's INVALID_INPUT), an ID of another type.
    Every actor."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    full = to_global_id("Customer", full_id)
    cases = [{"c": full, "e": "it@everything.example"}, {"c": full, "e": "  IT@Everything.example "},
             {"c": full, "e": "nobody@everything.example"}, {"c": full}, {"e": "it@everything.example"},
             {"n": [" fch1 "]}, {"n": ["BETA-SN", "nothing"]}, {"c": full, "e": "it@everything.example", "n": ["BETA-SN"]},
             {}, {"n": []}, {"n": ["x"] * 201}, {"c": to_global_id("Trial", trial_id), "e": "it@everything.example"}]
    planner = postgres.state.planner
    planned, found = 0, 0
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for variables in cases:
            body, answer_body, answer = await both_paths(postgres.state, planner, postgres.state.documents, actor,
                                                         DEMO, variables, "D")
            assert orjson.dumps(answer_body) == orjson.dumps(body), (actor, variables)
            if answer is not None and "demoOrders" in answer.valued:
                planned += 1
                found += len(body["data"]["demoOrders"])
    assert planned >= 60 and found >= 10, (planned, found, planner.fallbacks)
