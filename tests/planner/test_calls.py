"""The root fields whose answer is a call of the domain's Python (server.planner.calls: availableServices,
existingOrganization, siteUrlAvailable, previewPartnerEmail) are answered by the planner with the resolver's
own function, equal to the reference path for every actor of the arrangement, and with the same side
effects: one audit row per organization look-up (R-EX-01), the hour's look-ups counted once per request,
never twice; what the reference answers with an error (a role refused, a customer out of reach, the hour
used up) the planner answers alike, writing what the reference writes (a denial's audit row), once.

PostgreSQL only (the planner).
"""
from __future__ import annotations

from datetime import timedelta

import orjson
from graphql import get_operation_ast
from sqlalchemy import func, select

from server import clock
from server.db.models import AuditEvent, LoginAttempt, PurchasedService
from server.db.models.trials import Trial, TrialService
from server.domain.core.actor import Actor, ActorKind
from server.domain.orgs.customers import LOOKUPS_PER_HOUR
from server.enums import Role
from server.pages.operations import read_operations
from server.schema.context import Context
from server.schema.node import to_global_id
from tests.helpers import both_paths
from tests.planner.test_documents import _arrange_detail, _detail_actors

OPERATIONS = read_operations()
STORED = {"AvailableServices": "adminEmail", "ExistingOrganization": "adminEmail", "SiteUrlCheck": "name",
          "PreviewPartnerEmail": None}
MIXED = """query M($c: ID, $e: String, $yes: Boolean!, $no: Boolean!, $n: String!) {
  viewer { email }
  by: availableServices(customerId: $c) { ... on ServiceAvailability { t: type } available reason @skip(if: $no) __typename }
  mail: availableServices(adminEmail: $e) { type ...Why }
  none: availableServices { type available }
  siteUrlAvailable(name: $n) { ...Site valid @include(if: $yes) }
  p: previewPartnerEmail(kind: "welcome", locale: "nb", subject: "{{ customer_name }}") { preview { subject html }
    userErrors { code field m: message } __typename }
}
fragment Why on ServiceAvailability { reason available }
fragment Site on SiteUrlCheck { siteUrl message available }"""
EMAILS = ["admin@acme.example", "  ADMIN@Acme.example ", "g@granted.example", "it@everything.example",
          "nobody@nowhere.example", "not an email"]
NAMES = ["NettSted.webex.com", "Acme", "https://ledig.webex.com/", "-bad-", "", "everything.example.com"]


async def _arrange(sessionmaker):
    """_arrange_detail's, with services held (pending and running trials, Alpha's and Beta's) and purchased."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    held: set = set()
    async with sessionmaker() as db, db.begin():
        for row in await db.scalars(select(TrialService).join(Trial, Trial.id == TrialService.trial_id)
                                    .where(Trial.state.in_(["ACTIVE", "PENDING_CONSENT", "PENDING_PROVISIONING"]),
                                           TrialService.removed_at.is_(None)).order_by(TrialService.id)):
            if (row.customer_id, row.service) not in held:  # one holder each (uq_trial_services_customer_service_held)
                held.add((row.customer_id, row.service))
                row.holds = True
                if row.service == "MEETINGS" and not any(name == "MEETINGS" for _, name in held - {(row.customer_id,
                                                                                                    row.service)}):
                    row.site_url = "nettsted.webex.com"  # R-SVC-02: taken, whatever the case asked
        db.add(PurchasedService(customer_id=names["Asked Beta"], service="DEVICES"))
    return a, b, c, acme_id, full_id, trial_id, names


def _stored_cases(name: str) -> list[dict]:
    if name == "PreviewPartnerEmail":
        return [{"kind": "welcome", "locale": "en", "subject": "Hello {{ customer_name }}", "introduction": "Hi"},
                {"kind": "welcome", "locale": "nb", "subject": "", "introduction": ""},
                {"kind": "no-such-kind", "locale": "en", "subject": "x", "introduction": ""},
                {"kind": "welcome", "locale": "en", "subject": "{{ broken", "introduction": ""}]
    return [{STORED[name]: value} for value in (EMAILS if STORED[name] == "adminEmail" else NAMES)]


async def test_r_ex_01_r_svc_02_r_svc_06_r_set_02_the_stored_documents_are_planned_like_the_reference(
        postgres, sessionmaker):
    """Every actor, every case: the same bytes as the reference path; answered by the planner wherever the
    reference answers data."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange(sessionmaker)
    planner = postgres.state.planner
    answered: dict[str, int] = {}
    checks: set = set()
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for name in STORED:
            for variables in _stored_cases(name):
                body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, actor,
                                                         OPERATIONS[name], variables, name)
                assert orjson.dumps(planned) == orjson.dumps(body), (name, actor, variables)
                if answer is not None and answer.complete:
                    answered[name] = answered.get(name, 0) + 1
                    if name == "SiteUrlCheck" and "siteUrlAvailable" in answer.valued:  # not a signed-out error
                        found = body["data"]["siteUrlAvailable"]
                        checks.add((found["valid"], found["available"]))
                else:
                    assert body.get("errors"), ("handed back, yet the reference answers data", name, actor, variables)
    assert all(answered.get(name, 0) >= 10 for name in STORED), answered
    assert checks == {(True, True), (True, False), (False, False)}, checks  # free, taken, not well formed


async def test_r_svc_06_r_ex_02_aliases_fragments_directives_and_planned_siblings(postgres, sessionmaker):
    """One operation of several call roots (aliases, fragments, @skip/@include, __typename) beside a planned
    statement root (viewer): the same bytes as the reference for every actor and customer."""
    a, b, c, acme_id, full_id, trial_id, names = await _arrange(sessionmaker)
    planner = postgres.state.planner
    customers = [to_global_id("Customer", pk) for pk in sorted(names.values())] + [
        to_global_id("Trial", trial_id), "not-an-id", None]
    complete = 0
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for n, customer in enumerate(customers):
            variables = {"c": customer, "e": EMAILS[n % len(EMAILS)], "yes": n % 2 == 0, "no": n % 3 == 0,
                         "n": NAMES[n % len(NAMES)]}
            body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, actor,
                                                     MIXED, variables, "M")
            assert orjson.dumps(planned) == orjson.dumps(body), (actor, variables)
            complete += answer is not None and answer.complete
    assert complete >= 30, (complete, planner.fallbacks)


async def _lookups(sessionmaker, actor: Actor) -> tuple[int, int]:
    """(audit rows of organization look-ups by the actor, the actor's look-ups counted this hour)."""
    async with sessionmaker() as db:
        audited = await db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "organization.lookup", AuditEvent.actor == actor.label))
        counted = await db.scalar(select(LoginAttempt.failures).where(LoginAttempt.key == f"orglookup:{actor.label}"))
    return audited, counted or 0


async def _planned(postgres, actor: Actor, name: str, variables: dict):
    """The planner alone, on the read pool's autocommit sessionmaker with the write sessionmaker beside it
    (as `/graphql` and the pages give it)."""
    state = postgres.state
    text = OPERATIONS[name]
    document, _ = state.documents.get(text)
    context = Context(sessionmaker=state.read_sessionmaker, settings=state.settings, actor=actor,
                      write_sessionmaker=state.sessionmaker)
    try:
        return await state.planner.run(context, text, document, get_operation_ast(document, name), variables, name)
    finally:
        await context.close()


async def test_r_ex_01_one_audit_row_and_one_count_per_look_up(postgres, sessionmaker):
    """A look-up the planner answers writes one audit row and counts once (a second look-up of the same email
    within the hour is free, and still audited); the same as the resolver's, through the write sessionmaker."""
    a, *_ = await _arrange(sessionmaker)
    sales = Actor(kind=ActorKind.PARTNER_USER, user_id=a.user_ids[Role.SALES_ADMIN], partner_id=a.partner_id,
                  roles=frozenset({Role.SALES_ADMIN}), email=a.emails[Role.SALES_ADMIN])
    assert await _lookups(sessionmaker, sales) == (0, 0)
    answer = await _planned(postgres, sales, "ExistingOrganization", {"adminEmail": "admin@acme.example"})
    assert answer.complete and answer.data == {"existingOrganization": {"name": "Acme", "country": "NO"}}
    assert await _lookups(sessionmaker, sales) == (1, 1)
    answer = await _planned(postgres, sales, "AvailableServices", {"adminEmail": "ADMIN@acme.example"})
    assert answer.complete and len(answer.data["availableServices"]) >= 4
    assert await _lookups(sessionmaker, sales) == (2, 1)  # the same email: free, audited
    answer = await _planned(postgres, sales, "AvailableServices", {"adminEmail": "nobody@nowhere.example"})
    assert answer.complete and all(s["available"] for s in answer.data["availableServices"])
    assert await _lookups(sessionmaker, sales) == (3, 2)


async def test_r_ex_01_refused_look_ups_are_answered_like_the_reference_and_count_once(postgres, sessionmaker):
    """A role that may not look up (FORBIDDEN: one denial audited, through the resolver's own conversion) and
    the hour used up (RATE_LIMITED: nothing counted) are answered by the planner with the reference's errors,
    writing what the reference writes, once."""
    a, *_ = await _arrange(sessionmaker)
    reader = Actor(kind=ActorKind.PARTNER_USER, user_id=a.user_ids[Role.READ_ONLY], partner_id=a.partner_id,
                   roles=frozenset({Role.READ_ONLY}), email=a.emails[Role.READ_ONLY])
    sales = Actor(kind=ActorKind.PARTNER_USER, user_id=a.user_ids[Role.SALES_ADMIN], partner_id=a.partner_id,
                  roles=frozenset({Role.SALES_ADMIN}), email=a.emails[Role.SALES_ADMIN])
    state = postgres.state

    async def denials() -> int:
        async with sessionmaker() as db:
            return await db.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "permission.denied", AuditEvent.actor == reader.label))

    text, variables = OPERATIONS["ExistingOrganization"], {"adminEmail": "admin@acme.example"}
    body, planned, answer = await both_paths(state, state.planner, state.documents, reader, text, variables,
                                             "ExistingOrganization")
    assert planned == body and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert answer.complete and answer.data == {"existingOrganization": None}
    assert await denials() == 2 and await _lookups(sessionmaker, reader) == (0, 0)  # one each: planned, reference
    answer = await _planned(postgres, reader, "ExistingOrganization", variables)
    assert answer.complete and await denials() == 3
    async with sessionmaker() as db, db.begin():
        db.add(LoginAttempt(key=f"orglookup:{sales.label}", window_start=clock.now() - timedelta(minutes=5),
                            failures=LOOKUPS_PER_HOUR))
    for name in ("ExistingOrganization", "AvailableServices"):
        body, planned, answer = await both_paths(state, state.planner, state.documents, sales, OPERATIONS[name],
                                                 variables, name)
        assert planned == body and body["errors"][0]["extensions"]["code"] == "RATE_LIMITED" and answer.complete
    assert await _lookups(sessionmaker, sales) == (0, LOOKUPS_PER_HOUR)


async def test_r_set_02_a_refused_preview_is_answered_by_the_planner_with_one_denial(postgres, sessionmaker):
    """previewPartnerEmail answers a refusal as userErrors (data, not an error): the planner answers it, and the
    FORBIDDEN is audited once, through the write sessionmaker."""
    a, *_ = await _arrange(sessionmaker)
    reader = Actor(kind=ActorKind.PARTNER_USER, user_id=a.user_ids[Role.READ_ONLY], partner_id=a.partner_id,
                   roles=frozenset({Role.READ_ONLY}), email=a.emails[Role.READ_ONLY])
    answer = await _planned(postgres, reader, "PreviewPartnerEmail",
                            {"kind": "welcome", "locale": "en", "subject": "", "introduction": ""})
    assert answer.complete and answer.data["previewPartnerEmail"]["preview"] is None
    assert answer.data["previewPartnerEmail"]["userErrors"][0]["code"] == "FORBIDDEN"
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "permission.denied", AuditEvent.actor == reader.label)) == 1


async def test_r_ex_01_r_role_02_a_look_up_is_never_made_for_a_revoked_tokens_guessed_actor(postgres, client,
                                                                                           sessionmaker):
    """A known bearer token's request is planned for the actor it gave last time, its row read with the
    statement (server.auth.authenticate.TokenCheck); a call root that writes (R-EX-01's look-up) runs only once
    that actor is confirmed: after the token is revoked the next request answers signed out and nothing is
    looked up, counted or audited in the revoked token's name. Alone (no statement: the token read first) and
    beside a statement root (its row read with the statement)."""
    from sqlalchemy import update

    from server.db.models import ApiToken
    from tests import factories
    from tests.helpers import gql

    team = await factories.partner_team(sessionmaker, roles=[Role.SALES_ADMIN])
    token = team.tokens[Role.SALES_ADMIN]
    alone = '{ existingOrganization(adminEmail: "nobody@nowhere.example") { name } }'
    beside = '{ viewer { email } existingOrganization(adminEmail: "nobody@nowhere.example") { name } }'

    async def audited() -> int:
        async with sessionmaker() as db:
            return await db.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "organization.lookup"))

    before = postgres.state.planner.roots[("existingOrganization", "planner")]
    for n, text in enumerate([alone, beside, alone, beside]):
        body = await gql(client, text, token=token)
        assert body == {"data": {**({"viewer": {"email": team.emails[Role.SALES_ADMIN]}} if text == beside else {}),
                                 "existingOrganization": None}}, body
        assert await audited() == n + 1
    assert postgres.state.planner.roots[("existingOrganization", "planner")] == before + 4  # the planner's look-ups
    async with sessionmaker() as db, db.begin():
        await db.execute(update(ApiToken).where(ApiToken.user_id == team.user_ids[Role.SALES_ADMIN])
                         .values(revoked_at=clock.now()))
    for text in (alone, beside):
        body = await gql(client, text, token=token)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert await audited() == 4
