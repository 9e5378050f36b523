"""Webhooks: what a subscriber reads. A shipment event's object is the public `Shipment` (its
`__typename` and global ID as the API gives them); subscribing to an unknown event type is refused
with a message naming it."""
from __future__ import annotations

import json

from jobs import webhooks
from tests.devices.kit import active_trial, request_and_ship
from tests.helpers import gql
from tests.webhooks.conftest import CREATE, admin, create_endpoint


async def test_shipment_event_object_is_the_public_shipment(client, sessionmaker, receiver, runtime):
    """Kills: the value of `webhooks.events.OBJECT_TYPES["Shipment"]` changed (the object would carry
    another type name and an ID the API does not know), and the customer's reference type changed
    (`events.REFERENCES["customer"]` -> "XXCustomerXX", a survivor of `make mutate`: its ID would name
    no Customer)."""
    t = await active_trial(sessionmaker)
    await create_endpoint(client, admin(t.team), receiver.url, ["shipment.recorded"])
    shipped = await request_and_ship(client, t)
    assert await webhooks.flush(runtime) == 1
    [request] = receiver.requests
    event = json.loads(request.body)
    assert event["type"] == "shipment.recorded"
    assert (event["data"]["object"]["__typename"], event["data"]["object"]["id"]) == ("Shipment", shipped["id"])
    assert event["data"]["object"]["customer"] == {"id": t.customer_gid}


async def test_an_unknown_event_type_is_refused_by_name(client, sessionmaker, receiver):
    """Kills: the message of `webhooks.endpoints._types` changed (the partner would not learn which
    type is wrong)."""
    t = await active_trial(sessionmaker)
    body = await gql(client, CREATE, {"url": receiver.url, "types": ["trial.started", "trial.exploded"],
                                      "description": "CRM"}, token=admin(t.team))
    assert body["data"]["createWebhookEndpoint"]["userErrors"] == [
        {"code": "INVALID_INPUT", "field": ["eventTypes"], "message": "Unknown event types: trial.exploded."}]
