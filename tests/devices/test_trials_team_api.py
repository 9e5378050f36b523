"""Issue 16 item 4, R-ROLE-05: the trials team has an API. `trialdesk token create --email E` makes a
token for a trials-team user (DESIGN: every user), and that token runs the very documents the
`/trials-team` page runs (web/operations/): record a shipment, record a return, decide a device
extension. Partners' tokens run the same documents and are refused, changing nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server import clock
from server.db.models import DeviceExtensionRequest, Shipment
from server.enums import Role
from tests.conftest import ROOT
from tests.devices.kit import ASK, PHONE, REQUEST, active_trial, ok, request_and_ship
from tests.helpers import gql
from tests.cli.test_cli import cli

OPERATIONS = ROOT / "web" / "operations"


def document(name: str) -> str:
    """A stored document of the `/trials-team` page, as the page runs it."""
    return (OPERATIONS / f"{name}.graphql").read_text()


def cli_token(email: str) -> str:
    made = cli("user", "create", "--email", email, "--role", "TRIALS_TEAM")
    assert made.returncode == 0, made.stderr
    token = cli("token", "create", "--email", email, "--name", "warehouse")
    assert token.returncode == 0, token.stderr
    return token.stdout.strip()


async def shipment_requested(client, t, device=PHONE) -> str:
    return ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": device}, token=t.sales), "requestShipment",
              "shipment")["id"]


async def _state(sessionmaker) -> list:
    async with sessionmaker() as db:
        shipments = [tuple(r) for r in await db.execute(select(Shipment.id, Shipment.status, Shipment.demo_order_number)
                                                        .order_by(Shipment.id))]
        requests = [tuple(r) for r in await db.execute(select(DeviceExtensionRequest.id, DeviceExtensionRequest.status)
                                                       .order_by(DeviceExtensionRequest.id))]
    return [shipments, requests]


async def test_r_role_05_a_cli_token_of_the_trials_team_works_the_queue_over_graphql(app, client, sessionmaker):
    token = cli_token("warehouse@platform.example")
    viewer = (await gql(client, "{ viewer { email roles partner { name } } }", token=token))["data"]["viewer"]
    assert viewer == {"email": "warehouse@platform.example", "roles": ["TRIALS_TEAM"], "partner": None}

    t = await active_trial(sessionmaker, duration=90, trials_team=token)
    shipment = await shipment_requested(client, t)
    queue = (await gql(client, document("TrialsTeamQueue"), token=token))["data"]
    assert [s["id"] for s in queue["shipmentsToRecord"]] == [shipment]

    recorded = await gql(client, document("RecordShipment"), {
        "shipmentId": shipment, "demoOrderNumber": "DEMO-16", "serialNumbers": ["SN1", "SN2"],
        "shippedOn": clock.today().isoformat()}, token=token)
    assert ok(recorded, "recordShipment", "shipment")["status"] == "SHIPPED"

    asked = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 20, "r": "Pilot runs long"}, token=t.sales),
               "requestDeviceExtension", "request")
    decided = await gql(client, document("DecideDeviceExtension"),
                        {"requestId": asked["id"], "approve": True, "note": "Fine"}, token=token)
    assert ok(decided, "decideDeviceExtension", "request")["status"] == "APPROVED"

    returned = await gql(client, document("RecordReturn"), {"shipmentId": shipment, "serialNumbers": ["SN2", "SN1"]},
                         token=token)
    assert ok(returned, "recordReturn", "shipment")["status"] == "RETURNED"


@pytest.mark.parametrize("role", [Role.PARTNER_FULL_ADMIN, Role.SALES_ADMIN])
async def test_r_role_05_partner_tokens_still_cannot_do_the_trials_teams_work(client, sessionmaker, role):
    t = await active_trial(sessionmaker, duration=90)
    shipped = await request_and_ship(client, t)                  # phones out: an extension may be asked
    shipment = await shipment_requested(client, t, {"type": "HEADSET", "model": "Cisco Headset 730", "quantity": 2})
    asked = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 20}, token=t.sales), "requestDeviceExtension", "request")
    before = await _state(sessionmaker)
    partner = t.team.tokens[role]
    calls = {"recordShipment": ("RecordShipment", {"shipmentId": shipment, "demoOrderNumber": "DEMO-1",
                                                   "serialNumbers": ["SN1", "SN2"],
                                                   "shippedOn": clock.today().isoformat()}),
             "recordReturn": ("RecordReturn", {"shipmentId": shipped["id"], "serialNumbers": ["SN1", "SN2"]}),
             "decideDeviceExtension": ("DecideDeviceExtension", {"requestId": asked["id"], "approve": True})}
    for field, (name, variables) in calls.items():
        body = await gql(client, document(name), variables, token=partner)
        assert [e["code"] for e in body["data"][field]["userErrors"]] == ["FORBIDDEN"], body
    assert await _state(sessionmaker) == before
