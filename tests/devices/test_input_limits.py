"""Input limits at their edges, through the API (SPEC §9: bad input is a userError, never a change):
a device extension's reason (R-EXT-02) is at most 2000 characters, a serial number (R-DEV-02) at
most 64; one character more is refused on the field, the limit itself is accepted."""
from __future__ import annotations

from tests.devices.kit import ASK, RECORD, REQUEST, PHONE, active_trial, codes, ok, request_and_ship
from tests.helpers import gql


async def test_r_ext_02_reason_of_2000_characters_is_the_limit(client, sessionmaker):
    """Kills: the reason's limit in `extensions.request_extension` moved by one (2001 accepted)."""
    t = await active_trial(sessionmaker, duration=90)
    await request_and_ship(client, t)
    too_long = await gql(client, ASK, {"t": t.trial_gid, "d": 10, "r": "x" * 2001}, token=t.sales)
    assert codes(too_long, "requestDeviceExtension") == ["INVALID_INPUT"]
    assert too_long["data"]["requestDeviceExtension"]["userErrors"][0]["field"] == ["reason"]
    asked = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 10, "r": "x" * 2000}, token=t.sales),
               "requestDeviceExtension", "request")
    assert len(asked["reason"]) == 2000


async def test_r_dev_02_serial_numbers_of_64_characters_are_the_limit(client, sessionmaker):
    """Kills: the serial number limit in `shipments.normalize_serials` moved by one (64 refused)."""
    t = await active_trial(sessionmaker)
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.sales), "requestShipment",
                  "shipment")
    record = {"s": shipment["id"], "o": "DEMO-1", "on": "2026-12-01"}
    refused = await gql(client, RECORD, {**record, "n": ["A" * 65, "B" * 64]}, token=t.trials_team)
    assert codes(refused, "recordShipment") == ["INVALID_INPUT"]
    shipped = ok(await gql(client, RECORD, {**record, "n": ["A" * 64, "B" * 64]}, token=t.trials_team),
                 "recordShipment", "shipment")
    assert sorted(i["serialNumber"] for i in shipped["items"]) == ["A" * 64, "B" * 64]
