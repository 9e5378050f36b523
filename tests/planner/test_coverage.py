"""The planner's coverage: the read fields declared since issue 25 (partnerUsers, apiTokens, the webhook
endpoints, event types and deliveries, the trials team's queues, countries) answer like the reference path for
every actor — planned where the reference answers data, handed back where it answers an error
(FORBIDDEN for a role that may not, NOT_FOUND for another partner's endpoint) — and
`trialdesk planner report` says why each field left is not planned.
"""
from __future__ import annotations

import orjson

from server.domain.core.actor import Actor, ActorKind
from server import clock
from server.domain.partner_settings import email_texts
from server.domain.partner_settings import settings as partner_settings
from server.domain.webhooks import endpoints as webhooks
from server.domain.webhooks import log as webhook_log
from server.enums import Role
from server.planner.declare import UNPLANNED
from server.schema.node import to_global_id
from server.schema.schema import schema
from tests.helpers import both_paths
from tests.planner.test_documents import _arrange_detail, _detail_actors

QUERY = """query Q($endpoint: ID!, $status: ExtensionStatus, $delivery: ID!, $first: Int!) {
  partnerUsers { id email name roles active createdAt __typename }
  apiTokens { id name roles userEmail createdAt lastUsedAt revokedAt }
  webhookEventTypes
  webhookEndpoints { id url description eventTypes enabled disabledReason secretHint createdAt updatedAt }
  one: webhookEndpoint(id: $endpoint) { id url secretHint }
  deviceExtensionRequests(status: $status) { id days status trial { id } }
  all: deviceExtensionRequests(status: null) { id status }
  shipmentsToRecord { id deviceType status shippingAddress { line1 line2 city postalCode region country contactName contactPhone } }
  returnsToReconcile { id status returnMismatch { missing } }
  countries { code name region supported t: __typename }
  webhookDeliveries(endpointId: $endpoint, first: $first) { id endpointId eventId eventType status attempts manual
    createdAt lastAttemptAt nextAttemptAt deliveredAt responseStatus latencyMs error requestBody responseBody
    requestHeaders { name v: value __typename } }
  webhookDelivery(id: $delivery) { id status nextAttemptAt requestHeaders { value } ...Sent }
  partnerSettings { reminderDays senderName replyTo logoUrl emailRecipients { kind roles r: __typename } __typename }
  partnerEmailTexts { kind locale s: subject introduction placeholders }
}
fragment Sent on WebhookDelivery { requestHeaders { name } error }"""
ROOTS = ["partnerUsers", "apiTokens", "webhookEventTypes", "webhookEndpoints", "webhookEndpoint",
         "deviceExtensionRequests", "shipmentsToRecord", "returnsToReconcile", "countries", "webhookDeliveries",
         "webhookDelivery", "partnerSettings", "partnerEmailTexts"]


async def test_new_declarations_answer_like_the_reference_for_every_actor(postgres, sessionmaker):
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    actors = _detail_actors(a, b, c, acme_id, full_id)
    admin = next(x for x in actors if x.partner_id == a.partner_id and x.roles == frozenset({Role.PARTNER_FULL_ADMIN}))
    beta_admin = next(x for x in actors if x.partner_id == b.partner_id and Role.PARTNER_FULL_ADMIN in x.roles)
    async with sessionmaker() as db, db.begin():
        mine, _ = await webhooks.create_endpoint(db, admin, "http://127.0.0.1:9/hook", ["trial.started"], "ours",
                                                 settings=postgres.state.settings)
        theirs, _ = await webhooks.create_endpoint(db, beta_admin, "http://127.0.0.1:9/beta", ["trial.expired"],
                                                   settings=postgres.state.settings)
        sent = [await webhook_log.send_test(db, admin, mine.id) for _ in range(3)]
        sent[0].status, sent[0].attempts, sent[0].request_timestamp = "DELIVERED", 2, 1_765_000_000  # the 4 headers
        sent[0].last_attempt_at = sent[0].delivered_at = clock.now()
        sent[0].response_status, sent[0].latency_ms, sent[0].response_body = 204, 12, ""
        sent[1].status, sent[1].last_error = "FAILED", "connection refused"  # next_attempt_at kept: answered null
        sent.append(await webhook_log.send_test(db, beta_admin, theirs.id))
        await partner_settings.update(db, admin, reminder_days=[14, 3], sender_name="Alpha Sales",  # Beta: defaults
                                      reply_to="help@alpha.example", recipients_by_kind={"converted": [], "expired_partner": ["SALES_ADMIN"]})
        kind = next(iter(email_texts.TEXT_KINDS))
        await email_texts.save(db, admin, kind, "nb", "Prøveperioden din", "Hei!")
    planner = postgres.state.planner
    answered = set()
    for actor in actors:
        for endpoint in (mine.id, theirs.id):
            for status, delivery, first in (("PENDING", sent[0], 50), (None, sent[1], 2), ("APPROVED", sent[2], 0),
                                            (None, sent[3], 101)):
                variables = {"endpoint": to_global_id("WebhookEndpoint", endpoint), "status": status, "first": first,
                             "delivery": to_global_id("WebhookDelivery", delivery.id)}
                body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, actor,
                                                         QUERY, variables, "Q")
                assert orjson.dumps(planned) == orjson.dumps(body), (actor, variables)
                if answer is not None:
                    answered |= {root.name for root in answer.answered}
    assert answered >= set(ROOTS), (set(ROOTS) - answered, planner.fallbacks)
    trials_team = Actor(kind=ActorKind.TRIALS_TEAM, user_id=None, roles=frozenset({Role.TRIALS_TEAM}),
                        email="trials@platform.example")
    body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, trials_team,
                                             "{ shipmentsToRecord { id } returnsToReconcile { id } "
                                             "deviceExtensionRequests { id } }", None, None)
    assert answer.complete and planned == body and body["data"]["deviceExtensionRequests"]
    # a viewer without a partner: its partner is null without a read (the reference reads nothing either)
    text = "query V { viewer { email partner { name } } }"
    body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, trials_team, text,
                                             None, "V")
    assert answer.complete and planned == body and body["data"]["viewer"]["partner"] is None
    assert [statement for statement, _ in planner.plans[(text, "V")].statements.values()] == [None]
    # the trials team's queues for anyone else: empty lists without a read (the reference reads nothing either)
    queues = "query Q { shipmentsToRecord { id } returnsToReconcile { id } deviceExtensionRequests { id } }"
    admin = Actor(kind=ActorKind.CUSTOMER_ADMIN, email="a@b.example", customer_id=1, customer_user_id=1,
                  customer_full_admin=True)
    body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, admin, queues,
                                             None, "Q")
    assert answer.complete and planned == body and body["data"]["shipmentsToRecord"] == []
    assert [statement for statement, _ in planner.plans[(queues, "Q")].statements.values()] == [None]


def test_every_read_field_is_declared_or_says_why_not():
    """Every field of a read type has a declaration, or the root it hangs from is in UNPLANNED with a
    reason (`trialdesk planner report --all` prints it)."""
    from server.planner.metrics import coverage

    declared, undeclared = coverage(schema._schema)
    roots = {name.split(".")[1] for name in undeclared if name.startswith("Query.")}
    assert roots <= set(UNPLANNED), roots - set(UNPLANNED)
    assert all(UNPLANNED[name] for name in roots)
    assert len(declared) >= 149
    from server.planner.metrics import why_not

    reasons = why_not(undeclared, schema._schema)  # every field left says why, or under which left field
    assert all(reasons.values()) and "no declaration yet" not in reasons.values(), reasons
    # the roots whose answer is a call of the domain's Python (server.planner.calls), and the types under them
    assert {"Query.siteUrlAvailable", "SiteUrlCheck.available", "Query.previewPartnerEmail", "UserError.field",
            "EmailPreview.html", "Query.availableServices", "ServiceAvailability.reason", "Query.existingOrganization",
            "ExistingOrganization.country"} <= set(declared)
    # declared in issue 25 item 3: the partner's settings and a trial's usage per service and per day
    assert {"Partner.logoUrl", "Partner.contactEmail", "TrialAdoption.services", "TrialAdoption.daily",
            "UsageDay.minutes", "ServiceAdoption.assignedLicenses", "Query.callingRequirement",
            "NumberRequirement.missing"} <= set(declared)


WEEKS = """query W($weeks: Int!) {
  trialsByWeek(weeks: $weeks) { conversionRate weeks { weekStart isoWeek started converted expired released
    conversionRate __typename } __typename }
  two: trialsByWeek(weeks: 2) { weeks { s: started released } }
  customers(first: 1) { totalCount }
}"""


async def test_trials_by_week_is_planned_like_the_reference(postgres, sessionmaker):
    """trialsByWeek (issue 25 item 4): the domain's one statement inside the planner's, its week
    boundaries and moment bound per call and per root field (two different windows in one query), the
    resolver's own objects picked to the selection; what the reference refuses (weeks out of range)
    the planner answers as it does (the error; `data` null: a non-null root). Every actor, trials started, converted, released and ended in different weeks."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from server.db.models.trials import Trial

    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    now = clock.now()
    async with sessionmaker() as db, db.begin():
        ids = list(await db.scalars(select(Trial.id).order_by(Trial.id)))
        for n, pk in enumerate(ids):
            values = {"starts_at": now - timedelta(days=3 + 9 * n), "ends_at": now - timedelta(days=1 + 4 * n)}
            if n % 3 == 1:
                values["converted_at"] = now - timedelta(days=2 + 5 * n)
            if n % 3 == 2:
                values["released_at"] = now - timedelta(days=n)
            await db.execute(update(Trial).where(Trial.id == pk).values(**values))
    planner = postgres.state.planner
    planned_weeks, counted = 0, 0
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for weeks in (12, 1, 0, 53):
            body, planned, answer = await both_paths(postgres.state, planner, postgres.state.documents, actor, WEEKS,
                                                     {"weeks": weeks}, "W")
            assert orjson.dumps(planned) == orjson.dumps(body), (actor, weeks)
            if answer is not None and not 1 <= weeks <= 52:  # answered by the planner, as the reference: the error
                assert answer.complete and body["data"] is None and ["trialsByWeek"] in [e["path"] for e in body["errors"]]
            if answer is not None and "trialsByWeek" in answer.valued:
                planned_weeks += 1
                assert 1 <= weeks <= 52 and len(body["data"]["trialsByWeek"]["weeks"]) == weeks
                counted += sum(w[k] for w in body["data"]["trialsByWeek"]["weeks"]
                               for k in ("started", "converted", "expired", "released"))
    assert planned_weeks >= 4 and counted > 0, (planner.fallbacks, counted)
    assert "Query.trialsByWeek" not in UNPLANNED and "trialsByWeek" not in UNPLANNED
