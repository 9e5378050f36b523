"""Webhook delivery (issue 17 items 2-4) to a real HTTP receiver on a loopback port: events from
the real entry points, signatures verifiable with the README recipe, retries on 500 and timeouts,
nothing to a disabled endpoint, partner B never hears partner A, disabling after repeated failures."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from jobs import webhooks
from jobs.sweep import run_due
from server import clock
from server.db.models import AuditEvent, OutboxEmail, WebhookDelivery, WebhookEndpoint
from server.domain.core import audit
from server.domain.webhooks import attempts as webhook_attempts
from server.domain.core.actor import SYSTEM
from server.domain.webhooks.events import EVENT_TYPES
from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import partner_team
from tests.helpers import gql
from tests.trials.conftest import START, new_customer_input
from tests.webhooks.conftest import admin, create_endpoint, verify

DELIVERIES = """query($id: ID!) { webhookDeliveries(endpointId: $id) { id eventId eventType status attempts
  responseStatus latencyMs nextAttemptAt error requestBody responseBody requestHeaders { name value } } }"""
REDELIVER = "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { delivery { id eventId status } userErrors { code } } }"
TEST = "mutation($id: ID!) { sendTestWebhook(endpointId: $id) { delivery { id eventType } userErrors { code } } }"


async def _start_trial(client, team, n: int = 1) -> dict:
    body = await gql(client, START, {"input": new_customer_input(companyName=f"Acme {n}",
                                                                 adminEmail=f"admin@acme{n}.example")},
                     token=team.tokens[Role.SALES_ADMIN])
    assert body["data"]["startTrial"]["userErrors"] == [], body
    return body["data"]["startTrial"]["trial"]


async def _events(sessionmaker, partner_id: int, action: str, count: int) -> None:
    """`count` audit events of `action` for the partner, as the domain writes them."""
    async with sessionmaker() as db, db.begin():
        for i in range(count):
            audit.record(db, SYSTEM, action, "Trial", 1000 + i, customer_id=None, partner_id=partner_id,
                         after={"state": "ACTIVE", "n": i})


async def _advance(sessionmaker, delta: timedelta) -> None:
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, delta)


async def test_trial_started_reaches_the_endpoint_signed_with_global_ids(client, team, receiver, runtime):
    endpoint_id, secret = await create_endpoint(client, admin(team), receiver.url, ["trial.started"])
    trial = await _start_trial(client, team)
    assert await webhooks.flush(runtime) == 1
    [request] = receiver.requests
    assert verify(secret, request.headers, request.body)
    assert not verify(secret, request.headers, request.body.replace("Trial", "Trail"))
    event = json.loads(request.body)
    assert request.headers["webhook-id"] == event["id"]
    assert event["apiVersion"] == "2026-12-01" and event["type"] == "trial.started"
    assert event["data"]["object"]["__typename"] == "Trial" and event["data"]["object"]["id"] == trial["id"]
    assert event["data"]["object"]["state"] == trial["state"]
    assert event["data"]["object"]["customer"]["id"].startswith(to_global_id("Customer", 1)[:4])
    log = (await gql(client, DELIVERIES, {"id": endpoint_id}, token=admin(team)))["data"]["webhookDeliveries"]
    assert [(d["eventType"], d["status"], d["attempts"], d["responseStatus"]) for d in log] == [
        ("trial.started", "DELIVERED", 1, 200)]
    assert log[0]["requestBody"] == request.body and log[0]["responseBody"] == "answered 200"
    assert {h["name"] for h in log[0]["requestHeaders"]} >= {"webhook-id", "webhook-timestamp", "webhook-signature"}


async def test_every_audit_action_of_the_catalogue_is_written_by_the_domain():
    from pathlib import Path

    from server.domain.trials.lifecycle import TrialEvent

    source = "".join(p.read_text() for p in Path("server/domain").rglob("*.py") if p.parent.name != "webhooks")
    consent = {f"consent.{e.value}" for e in TrialEvent}
    for action in EVENT_TYPES:
        assert f'"{action}"' in source or f"'{action}'" in source or action in consent, action


async def test_retries_on_500_with_the_same_webhook_id_then_delivers(client, team, receiver, runtime, sessionmaker):
    endpoint_id, secret = await create_endpoint(client, admin(team), receiver.url)
    receiver.statuses = [500, 503]
    await _events(sessionmaker, team.partner_id, "trial.extended", 1)
    assert await webhooks.flush(runtime) == 0
    log = (await gql(client, DELIVERIES, {"id": endpoint_id}, token=admin(team)))["data"]["webhookDeliveries"]
    assert (log[0]["status"], log[0]["attempts"], log[0]["responseStatus"], log[0]["error"]) == ("PENDING", 1, 500, "HTTP 500")
    assert log[0]["nextAttemptAt"] is not None
    await _advance(sessionmaker, webhook_attempts.SCHEDULE[0] + timedelta(seconds=1))
    assert await webhooks.flush(runtime) == 0                                  # 503
    assert await webhooks.flush(runtime) == 0                                  # not due yet: 5 minutes
    await _advance(sessionmaker, webhook_attempts.SCHEDULE[1] + timedelta(seconds=1))
    assert await webhooks.flush(runtime) == 1
    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert all(verify(secret, r.headers, r.body) for r in receiver.requests)


async def test_retry_schedule_spans_more_than_24_hours_then_failed():
    total = sum(webhook_attempts.SCHEDULE, timedelta())
    assert total > timedelta(hours=24)
    assert webhook_attempts.retry_delay(webhook_attempts.MAX_ATTEMPTS) is None


async def test_a_timeout_is_a_failed_attempt_retried_later(client, team, receiver, runtime, sessionmaker, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.3)
    endpoint_id, _ = await create_endpoint(client, admin(team), receiver.url)
    receiver.delay = 1.0
    await _events(sessionmaker, team.partner_id, "trial.expired", 1)
    assert await webhooks.flush(runtime) == 0
    log = (await gql(client, DELIVERIES, {"id": endpoint_id}, token=admin(team)))["data"]["webhookDeliveries"]
    assert (log[0]["status"], log[0]["attempts"], log[0]["responseStatus"]) == ("PENDING", 1, None)
    assert "no answer within" in log[0]["error"]
    receiver.delay = 0
    await _advance(sessionmaker, timedelta(seconds=6))
    assert await webhooks.flush(runtime) == 1


async def test_no_delivery_to_a_disabled_endpoint(client, team, receiver, runtime, sessionmaker):
    endpoint_id, _ = await create_endpoint(client, admin(team), receiver.url)
    await gql(client, """mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: false) { userErrors { code } } }""",
              {"id": endpoint_id}, token=admin(team))
    await _events(sessionmaker, team.partner_id, "trial.converted", 3)
    await webhooks.flush(runtime)
    assert receiver.requests == []
    async with sessionmaker() as db:
        assert await db.scalar(select(WebhookDelivery.id)) is None
        assert await db.scalar(select(AuditEvent.id).where(AuditEvent.webhooks_dispatched_at.is_(None))) is None


async def test_r_org_02_partner_b_never_receives_partner_a_events(client, team, receiver, runtime, sessionmaker):
    from tests.webhooks.receiver import Receiver

    other = await partner_team(sessionmaker)
    other_receiver = await Receiver().start()
    try:
        await create_endpoint(client, admin(team), receiver.url)
        await create_endpoint(client, admin(other), other_receiver.url)
        await _start_trial(client, team)
        await _events(sessionmaker, team.partner_id, "trial.cancelled", 2)
        await webhooks.flush(runtime)
        assert sorted(json.loads(r.body)["type"] for r in receiver.requests) == [
            "trial.cancelled", "trial.cancelled", "trial.started"]
        assert other_receiver.requests == []
    finally:
        await other_receiver.stop()


async def test_per_endpoint_order_follows_event_order(client, team, receiver, runtime, sessionmaker):
    await create_endpoint(client, admin(team), receiver.url)
    await _events(sessionmaker, team.partner_id, "trial.extended", 30)
    assert await webhooks.flush(runtime) == 30
    assert [json.loads(r.body)["data"]["object"]["n"] for r in receiver.requests] == list(range(30))


async def test_after_a_failure_the_endpoints_later_events_wait_behind_the_retry(client, team, receiver, runtime,
                                                                                sessionmaker):
    await create_endpoint(client, admin(team), receiver.url)
    receiver.statuses = [500]
    await _events(sessionmaker, team.partner_id, "trial.extended", 5)
    assert await webhooks.flush(runtime) == 0
    assert len(receiver.requests) == 1                                         # the rest were not tried
    await _advance(sessionmaker, timedelta(seconds=6))
    assert await webhooks.flush(runtime) == 5
    assert [json.loads(r.body)["data"]["object"]["n"] for r in receiver.requests] == [0, 0, 1, 2, 3, 4]


async def test_repeated_failures_disable_the_endpoint_and_email_the_full_admins(client, team, receiver, runtime,
                                                                                sessionmaker):
    endpoint_id, _ = await create_endpoint(client, admin(team), receiver.url)
    receiver.status = 500
    await _events(sessionmaker, team.partner_id, "trial.released", webhook_attempts.DISABLE_AFTER)
    for _ in range(webhook_attempts.MAX_ATTEMPTS):
        await webhooks.flush(runtime)
        await _advance(sessionmaker, timedelta(hours=10, minutes=1))
    async with sessionmaker() as db:
        statuses = list(await db.scalars(select(WebhookDelivery.status)))
        endpoint = await db.scalar(select(WebhookEndpoint))
        mails = list(await db.execute(select(OutboxEmail.recipient, OutboxEmail.kind, OutboxEmail.subject)))
    assert statuses == ["FAILED"] * webhook_attempts.DISABLE_AFTER
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "failing deliveries")
    assert mails == [(team.emails[Role.PARTNER_FULL_ADMIN], "webhook_disabled",
                      "Trialdesk stopped sending to your webhook endpoint")]
    requests = len(receiver.requests)
    await _events(sessionmaker, team.partner_id, "trial.released", 1)
    await webhooks.flush(runtime)
    assert len(receiver.requests) == requests                                  # disabled: nothing more
    listed = await gql(client, "{ webhookEndpoints { enabled disabledReason } }", token=admin(team))
    assert listed["data"]["webhookEndpoints"] == [{"enabled": False, "disabledReason": "failing deliveries"}]


async def test_redeliver_and_send_test_event(client, team, receiver, runtime, sessionmaker):
    endpoint_id, secret = await create_endpoint(client, admin(team), receiver.url)
    await _events(sessionmaker, team.partner_id, "trial.provisioned", 1)
    await webhooks.flush(runtime)
    [delivery] = (await gql(client, DELIVERIES, {"id": endpoint_id}, token=admin(team)))["data"]["webhookDeliveries"]
    resent = (await gql(client, REDELIVER, {"id": delivery["id"]}, token=admin(team)))["data"]["redeliverWebhook"]
    assert resent["userErrors"] == [] and resent["delivery"]["eventId"] == delivery["eventId"]
    tested = (await gql(client, TEST, {"id": endpoint_id}, token=admin(team)))["data"]["sendTestWebhook"]
    assert tested == {"delivery": {"id": tested["delivery"]["id"], "eventType": "webhook.test"}, "userErrors": []}
    assert await webhooks.flush(runtime) == 2
    first, again, test = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"] and first.body == again.body
    assert json.loads(test.body)["type"] == "webhook.test" and verify(secret, test.headers, test.body)
    # what the receiving developer sees (its text mutated survived `make mutate`)
    assert json.loads(test.body)["data"]["object"]["message"] == "A test event from Trialdesk."
    other = await partner_team(sessionmaker)
    refused = (await gql(client, REDELIVER, {"id": delivery["id"]}, token=admin(other)))["data"]["redeliverWebhook"]
    assert refused == {"delivery": None, "userErrors": [{"code": "NOT_FOUND"}]}


async def test_ssrf_checked_again_at_delivery_time(client, team, receiver, runtime, sessionmaker):
    endpoint_id, _ = await create_endpoint(client, admin(team), receiver.url)
    async with sessionmaker() as db, db.begin():                   # as if its DNS now answered a private address
        await db.execute(update(WebhookEndpoint).values(url="http://10.0.0.1/hooks"))
    await _events(sessionmaker, team.partner_id, "trial.started", 1)
    assert await webhooks.flush(runtime) == 0
    log = (await gql(client, DELIVERIES, {"id": endpoint_id}, token=admin(team)))["data"]["webhookDeliveries"]
    assert log[0]["status"] == "PENDING" and "may not call" in log[0]["error"]
    assert receiver.requests == []


async def test_jobs_run_due_delivers_webhooks(client, team, receiver, runtime):
    await create_endpoint(client, admin(team), receiver.url, ["trial.started"])
    await _start_trial(client, team)
    report = await run_due(runtime)
    assert report.webhooks == 1 and len(receiver.requests) == 1


async def test_webhook_timestamp_is_wall_clock_time_while_the_event_carries_the_products(client, team, receiver,
                                                                                         runtime, sessionmaker):
    """Issue 27 item 3: with the test clock 40 days on, a receiver's 5-minute tolerance check (the
    README's `verify`) still passes: `webhook-timestamp` is a transport fact; `createdAt` is product time."""
    import time

    _, secret = await create_endpoint(client, admin(team), receiver.url)
    await _advance(sessionmaker, timedelta(days=40))
    await _events(sessionmaker, team.partner_id, "trial.provisioned", 1)
    assert await webhooks.flush(runtime) == 1
    [request] = receiver.requests
    assert abs(time.time() - int(request.headers["webhook-timestamp"])) < 300 and verify(secret, request.headers, request.body)
    created = datetime.fromisoformat(json.loads(request.body)["createdAt"])
    assert created - datetime.now(UTC) > timedelta(days=39)


async def test_trial_expiring_soon_carries_the_trial_like_every_trial_event(client, team, receiver, runtime,
                                                                            sessionmaker):
    """Issue 27 item 12: the 7-day warning's event object is the trial (id, customer, state, end)."""
    await create_endpoint(client, admin(team), receiver.url, ["trial.provisioned", "trial.expiring_soon"])
    trial = await _start_trial(client, team)
    await run_due(runtime)                                          # provisioned
    ends_at = datetime.fromisoformat(trial["endsAt"])
    await _advance(sessionmaker, ends_at - timedelta(days=7) - datetime.now(UTC) + timedelta(hours=1))
    await run_due(runtime)
    events = {e["type"]: e["data"]["object"] for e in map(lambda r: json.loads(r.body), receiver.requests)}
    soon, provisioned = events["trial.expiring_soon"], events["trial.provisioned"]
    assert soon["__typename"] == "Trial" and soon["id"] == trial["id"] == provisioned["id"]
    assert soon["customer"] == provisioned["customer"] and soon["state"] == "ACTIVE"
    assert soon["endsAt"] and soon["daysLeft"] == 7


async def test_a_delivered_event_ends_the_run_of_failures_that_disables(client, team, receiver, runtime, sessionmaker):
    """Only DISABLE_AFTER failed deliveries *in a row* disable the endpoint: one failed, one delivered,
    then DISABLE_AFTER - 1 failed leave it enabled. Kills the success's reset skipped after a single
    failure (`attempts.record`: `failed_in_row > 0` -> `> 1`, a survivor of `make mutate`)."""
    endpoint_id, _ = await create_endpoint(client, admin(team), receiver.url)

    async def fail(count: int) -> None:
        receiver.status = 500
        await _events(sessionmaker, team.partner_id, "trial.released", count)
        for _ in range(webhook_attempts.MAX_ATTEMPTS):
            await webhooks.flush(runtime)
            await _advance(sessionmaker, timedelta(hours=10, minutes=1))

    await fail(1)
    receiver.status = 200
    await _events(sessionmaker, team.partner_id, "trial.extended", 1)
    assert await webhooks.flush(runtime) == 1
    await fail(webhook_attempts.DISABLE_AFTER - 1)
    log = (await gql(client, DELIVERIES, {"id": endpoint_id}, token=admin(team)))["data"]["webhookDeliveries"]
    assert sorted(d["status"] for d in log) == ["DELIVERED"] + ["FAILED"] * webhook_attempts.DISABLE_AFTER
    listed = await gql(client, "{ webhookEndpoints { enabled disabledReason } }", token=admin(team))
    assert listed["data"]["webhookEndpoints"] == [{"enabled": True, "disabledReason": None}]
