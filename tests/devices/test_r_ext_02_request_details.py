"""R-EXT-02: a device extension request's details as the API answers them — the reason left out is
none, the trials team's list by status, a decision when the devices are back — and R-ORG-02: another
partner's request is not found, on its field. Each test names the `make mutate` survivor it kills."""
from __future__ import annotations

from server.enums import Role
from tests.devices.kit import ASK, DECIDE, RETURN, active_trial, codes, ok, request_and_ship
from tests.factories import partner_team
from tests.helpers import gql

LIST = "query($s: ExtensionStatus) { deviceExtensionRequests(status: $s) { id status reason } }"


def _errors(body: dict, name: str) -> list[tuple]:
    assert "errors" not in body, body
    return [(e["code"], e["field"]) for e in body["data"][name]["userErrors"]]


async def test_r_ext_02_no_reason_is_none_and_the_list_filters_by_status(client, sessionmaker):
    """Kills (fresh make mutate): `(reason or "")` -> `(reason or "XXXX")` in request_extension (a
    request without a reason stored "XXXX"), and `status is not None` -> `status is None` in
    list_requests (a status asked for listed every status; none asked for failed)."""
    t = await active_trial(sessionmaker, duration=90)
    await request_and_ship(client, t)
    first = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 5}, token=t.sales), "requestDeviceExtension", "request")
    assert first["reason"] is None
    ok(await gql(client, DECIDE, {"r": first["id"], "a": True}, token=t.trials_team), "decideDeviceExtension", "request")
    second = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 5, "r": "  More time  "}, token=t.sales),
                "requestDeviceExtension", "request")
    assert second["reason"] == "More time"
    pending = (await gql(client, LIST, {"s": "PENDING"}, token=t.trials_team))["data"]["deviceExtensionRequests"]
    assert [(r["id"], r["status"]) for r in pending] == [(second["id"], "PENDING")]
    approved = (await gql(client, LIST, {"s": "APPROVED"}, token=t.trials_team))["data"]["deviceExtensionRequests"]
    assert [(r["id"], r["status"], r["reason"]) for r in approved] == [(first["id"], "APPROVED", None)]
    every = (await gql(client, LIST, {"s": None}, token=t.trials_team))["data"]["deviceExtensionRequests"]
    assert {(r["id"], r["status"]) for r in every} == {(first["id"], "APPROVED"), (second["id"], "PENDING")}


async def test_r_org_02_another_partners_extension_request_is_not_found_on_request_id(client, sessionmaker):
    """Kills (fresh make mutate): decide_extension's `not_found("device extension request",
    "requestId")` for a trial out of reach with its field renamed ("XXrequestIdXX")."""
    t = await active_trial(sessionmaker, duration=90)
    await request_and_ship(client, t)
    asked = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 5}, token=t.sales), "requestDeviceExtension", "request")
    other = await partner_team(sessionmaker)
    body = await gql(client, DECIDE, {"r": asked["id"], "a": False}, token=other.tokens[Role.PARTNER_FULL_ADMIN])
    assert _errors(body, "decideDeviceExtension") == [("NOT_FOUND", ["requestId"])]
    assert body["data"]["decideDeviceExtension"]["request"] is None


async def test_r_ext_02_approving_once_the_devices_are_back_is_refused_on_approve(client, sessionmaker):
    """Kills (fresh make mutate): `if first is None or due is None` -> `and` in extensions.days_left: a
    trial whose devices are all returned has a first ship date but no due date (it then failed with a
    500 instead of DEVICE_TRIAL_LIMIT)."""
    t = await active_trial(sessionmaker, duration=90)
    shipped = await request_and_ship(client, t)
    asked = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 5}, token=t.sales), "requestDeviceExtension", "request")
    ok(await gql(client, RETURN, {"s": shipped["id"], "n": ["SN1", "SN2"]}, token=t.trials_team),
       "recordReturn", "shipment")
    body = await gql(client, DECIDE, {"r": asked["id"], "a": True}, token=t.trials_team)
    assert _errors(body, "decideDeviceExtension") == [("DEVICE_TRIAL_LIMIT", ["approve"])]
    assert codes(await gql(client, DECIDE, {"r": asked["id"], "a": False}, token=t.trials_team),
                 "decideDeviceExtension") == []
