"""Webhooks: the public event type each change is published as (the README's table), from the real
entry points: an edit is `trial.updated`, a consent request `trial.consent_requested`, a withdrawn
consent request `trial.cancelled` (as a cancelled trial), a cancellation `trial.cancelled`, an extension
`trial.extended`."""
from __future__ import annotations

from jobs import webhooks
from server.enums import Role
from tests.factories import existing_customer, provisioned
from tests.helpers import gql
from tests.trials.conftest import CANCEL, CANCEL_REQUEST, EXISTING, EXTEND, START, UPDATE, new_customer_input
from tests.webhooks.conftest import admin, create_endpoint

DELIVERIES = "query($id: ID!) { webhookDeliveries(endpointId: $id) { eventType } }"


async def test_webhook_event_types_of_edit_extend_cancel_and_withdraw(client, sessionmaker, team, receiver, runtime):
    """Kills: an entry of `webhooks.events.EVENT_TYPES` changed ("trial.edited" -> "trial.updated",
    "consent.request_withdrawn" -> "trial.cancelled", "consent.requested" -> "trial.consent_requested"
    (renamed: a survivor of `make mutate`), ...): subscribers would never hear of it."""
    endpoint, _ = await create_endpoint(client, admin(team), receiver.url,
                                        ["trial.updated", "trial.cancelled", "trial.extended", "trial.consent_requested"])
    sales = team.tokens[Role.SALES_ADMIN]

    async def ok(query: str, variables: dict, name: str) -> dict:
        body = await gql(client, query, variables, token=sales)
        assert body["data"][name]["userErrors"] == [], body
        return body["data"][name]["trial"]

    trial = await ok(START, {"input": new_customer_input()}, "startTrial")
    await provisioned(sessionmaker, trial["id"])
    trial = await ok(UPDATE, {"t": trial["id"], "v": trial["version"] + 1, "n": 50}, "updateTrial")
    await ok(EXTEND, {"t": trial["id"], "d": 30}, "extendTrial")
    await ok(CANCEL, {"t": trial["id"]}, "cancelTrial")
    await existing_customer(sessionmaker, admin_email="boss@asked.example")
    asked = await ok(EXISTING, {"input": new_customer_input(adminEmail="boss@asked.example", services=["CALLING"])},
                     "requestTrialForExistingCustomer")
    await ok(CANCEL_REQUEST, {"t": asked["id"]}, "cancelTrialRequest")
    await webhooks.flush(runtime)
    body = await gql(client, DELIVERIES, {"id": endpoint}, token=admin(team))
    assert sorted(d["eventType"] for d in body["data"]["webhookDeliveries"]) == [
        "trial.cancelled", "trial.cancelled", "trial.consent_requested", "trial.extended", "trial.updated"]
