"""R-DEV-01 in the start wizard: the devices picked with startTrial become requested shipments."""
from __future__ import annotations

from server.enums import Role
from tests.devices.kit import PHONE, codes, ok
from tests.factories import partner_team
from tests.helpers import gql

START = """mutation($input: StartTrialInput!) { startTrial(input: $input) {
  trial { id shipments { deviceType status model items { model } } } userErrors { code field message } } }"""


def wizard(devices: list[dict]) -> dict:
    return {"companyName": "Devices AS", "adminEmail": "admin@devices-wizard.example", "businessVertical": "Retail",
            "country": "NO", "supportedLocationConfirmed": True, "services": ["MESSAGING", "DEVICES"],
            "licenseCount": 10, "durationDays": 90, "devices": devices}


async def test_r_dev_01_wizard_devices_become_requested_shipments(client, sessionmaker):
    team = await partner_team(sessionmaker)
    headset = {"type": "HEADSET", "model": "Cisco Headset 730", "quantity": 3}
    body = await gql(client, START, {"input": wizard([PHONE, headset])}, token=team.tokens[Role.SALES_ADMIN])
    trial = ok(body, "startTrial", "trial")
    assert sorted((s["deviceType"], s["status"]) for s in trial["shipments"]) == [("HEADSET", "REQUESTED"),
                                                                                  ("PHONE", "REQUESTED")]


async def test_r_dev_01_wizard_refuses_two_of_a_type_and_unconfirmed_poe(client, sessionmaker):
    team = await partner_team(sessionmaker)
    devices = [{**PHONE, "poeConfirmed": False}, {**PHONE, "model": "Cisco Desk Phone 9851"}]
    body = await gql(client, START, {"input": wizard(devices)}, token=team.tokens[Role.SALES_ADMIN])
    assert sorted(codes(body, "startTrial")) == ["POE_NOT_CONFIRMED", "SHIPMENT_EXISTS"]
    assert body["data"]["startTrial"]["trial"] is None
