"""R-EXT-02 and R-RMA-01/02 over time: device extensions, due and overdue returns, a replayed life."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server import clock
from server.db.models import CustomerOrg, OutboxEmail
from server.enums import Role
from tests.devices.kit import ASK, DECIDE, RETURN, active_trial, advance, codes, ok, request_and_ship, run_due
from tests.helpers import gql

LIST = "query($s: ExtensionStatus) { deviceExtensionRequests(status: $s) { id days status } }"
SHIPMENT = "query($id: ID!) { node(id: $id) { ... on Shipment { status dueDate returnBy } } }"


async def _emails(sessionmaker, kind: str) -> list[OutboxEmail]:
    async with sessionmaker() as db:
        return list(await db.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)))


async def test_r_ext_02_request_past_120_days_is_refused(client, sessionmaker):
    t = await active_trial(sessionmaker, duration=90)
    await request_and_ship(client, t)
    body = await gql(client, ASK, {"t": t.trial_gid, "d": 31}, token=t.sales)
    assert codes(body, "requestDeviceExtension") == ["DEVICE_TRIAL_LIMIT"]
    assert "30 days left" in body["data"]["requestDeviceExtension"]["userErrors"][0]["message"]


async def test_r_ext_02_trials_team_approves_and_partner_is_emailed(client, sessionmaker):
    """The partner's people are told, the email's subject naming the customer and the decision: kills
    its subject renamed (`emails.SUBJECTS["device_extension_decided"]`, a survivor of `make mutate`)."""
    t = await active_trial(sessionmaker, duration=90)
    shipped = await request_and_ship(client, t)
    asked = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 20, "r": "Pilot runs long"}, token=t.sales),
               "requestDeviceExtension", "request")
    assert asked["status"] == "PENDING" and asked["trial"]["id"] == t.trial_gid
    pending = await gql(client, LIST, {}, token=t.trials_team)
    assert [r["id"] for r in pending["data"]["deviceExtensionRequests"]] == [asked["id"]]
    forbidden = await gql(client, DECIDE, {"r": asked["id"], "a": True}, token=t.team.tokens[Role.PARTNER_FULL_ADMIN])
    assert codes(forbidden, "decideDeviceExtension") == ["FORBIDDEN"]
    decided = ok(await gql(client, DECIDE, {"r": asked["id"], "a": True, "n": "OK"}, token=t.trials_team),
                 "decideDeviceExtension", "request")
    assert decided["status"] == "APPROVED" and decided["days"] == 20
    node = (await gql(client, SHIPMENT, {"id": shipped["id"]}, token=t.sales))["data"]["node"]
    assert node["dueDate"] == (clock.today() + timedelta(days=110)).isoformat()
    mails = await _emails(sessionmaker, "device_extension_decided")
    recipients = {m.recipient for m in mails}
    async with sessionmaker() as db:
        name = (await db.get(CustomerOrg, t.customer_id)).name
    assert {(m.locale, m.subject) for m in mails} == {("en", f"{name}: device trial extension decided")}
    assert t.team.emails[Role.SALES_ADMIN] in recipients and t.team.emails[Role.PARTNER_ADMIN] in recipients
    assert t.team.emails[Role.READ_ONLY] not in recipients
    again = await gql(client, DECIDE, {"r": asked["id"], "a": False}, token=t.trials_team)
    assert codes(again, "decideDeviceExtension") == ["INVALID_STATE"]


async def test_r_ext_02_approval_never_passes_120_days(client, sessionmaker):
    t = await active_trial(sessionmaker, duration=90)
    await request_and_ship(client, t)
    first = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 20}, token=t.sales), "requestDeviceExtension", "request")
    ok(await gql(client, DECIDE, {"r": first["id"], "a": True}, token=t.trials_team), "decideDeviceExtension", "request")
    too_many = await gql(client, ASK, {"t": t.trial_gid, "d": 20}, token=t.sales)
    assert codes(too_many, "requestDeviceExtension") == ["DEVICE_TRIAL_LIMIT"]
    last = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 10}, token=t.sales), "requestDeviceExtension", "request")
    ok(await gql(client, DECIDE, {"r": last["id"], "a": True}, token=t.trials_team), "decideDeviceExtension", "request")
    none_left = await gql(client, ASK, {"t": t.trial_gid, "d": 1}, token=t.sales)
    assert codes(none_left, "requestDeviceExtension") == ["DEVICE_TRIAL_LIMIT"]


async def test_r_ext_02_denied_request_changes_no_date(client, sessionmaker):
    t = await active_trial(sessionmaker, duration=30)
    shipped = await request_and_ship(client, t)
    asked = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 30}, token=t.sales), "requestDeviceExtension", "request")
    denied = ok(await gql(client, DECIDE, {"r": asked["id"], "a": False, "n": "No stock"}, token=t.trials_team),
                "decideDeviceExtension", "request")
    assert denied["status"] == "DENIED" and denied["note"] == "No stock"
    node = (await gql(client, SHIPMENT, {"id": shipped["id"]}, token=t.sales))["data"]["node"]
    assert node["dueDate"] == shipped["dueDate"]
    assert len(await _emails(sessionmaker, "device_extension_decided")) >= 1


async def test_r_rma_01_device_life_ship_due_overdue_extended_returned(client, sessionmaker):
    """Ship day 0, due day 90, overdue after day 104 (emailed once), extension approved to 120,
    returned by serials."""
    t = await active_trial(sessionmaker, country="NO", duration=90)
    day0 = clock.today()
    shipped = await request_and_ship(client, t)
    assert shipped["dueDate"] == (day0 + timedelta(days=90)).isoformat()
    assert shipped["returnBy"] == (day0 + timedelta(days=104)).isoformat()

    await advance(sessionmaker, 90)
    assert await run_due(sessionmaker) == ["return_due"]
    status = (await gql(client, SHIPMENT, {"id": shipped["id"]}, token=t.sales))["data"]["node"]["status"]
    assert status == "RETURN_DUE"

    await advance(sessionmaker, 14)        # day 104: the last day to return
    assert await run_due(sessionmaker) == []
    await advance(sessionmaker, 1)         # day 105: overdue
    assert await run_due(sessionmaker) == ["return_overdue"]
    status = (await gql(client, SHIPMENT, {"id": shipped["id"]}, token=t.sales))["data"]["node"]["status"]
    assert status == "OVERDUE"
    overdue = await _emails(sessionmaker, "return_overdue")
    recipients = [m.recipient for m in overdue]
    assert len(recipients) == len(set(recipients))
    assert t.team.emails[Role.PARTNER_FULL_ADMIN] in recipients and any(r.startswith("admin") for r in recipients)
    assert t.team.emails[Role.READ_ONLY] not in recipients
    queue = await gql(client, "{ returnsToReconcile { id status } }", token=t.trials_team)
    assert [s["status"] for s in queue["data"]["returnsToReconcile"]] == ["OVERDUE"]

    asked = ok(await gql(client, ASK, {"t": t.trial_gid, "d": 30}, token=t.sales), "requestDeviceExtension", "request")
    ok(await gql(client, DECIDE, {"r": asked["id"], "a": True}, token=t.trials_team), "decideDeviceExtension", "request")
    node = (await gql(client, SHIPMENT, {"id": shipped["id"]}, token=t.sales))["data"]["node"]
    assert node == {"status": "SHIPPED", "dueDate": (day0 + timedelta(days=120)).isoformat(),
                    "returnBy": (day0 + timedelta(days=134)).isoformat()}

    await advance(sessionmaker, 15)        # day 120: due again
    assert await run_due(sessionmaker) == ["return_due"]
    returned = ok(await gql(client, RETURN, {"s": shipped["id"], "n": ["SN1", "SN2"]}, token=t.trials_team),
                  "recordReturn", "shipment")
    assert returned["status"] == "RETURNED"
    await advance(sessionmaker, 30)
    assert await run_due(sessionmaker) == []     # the overdue deadline died with the return
    assert len(await _emails(sessionmaker, "return_overdue")) == len(overdue)


async def test_r_ext_02_one_request_at_a_time(client, sessionmaker):
    """A second device extension request while one waits for the trials team is refused on the trial,
    saying so: kills that refusal's message and field mutated (`extensions.request_extension`,
    "XXA device extension request is waiting...XX" and "XXtrialIdXX": survivors of `make mutate`)."""
    t = await active_trial(sessionmaker, duration=90)
    await request_and_ship(client, t)
    ok(await gql(client, ASK, {"t": t.trial_gid, "d": 10}, token=t.sales), "requestDeviceExtension", "request")
    body = await gql(client, ASK, {"t": t.trial_gid, "d": 10}, token=t.sales)
    assert [(e["code"], e["field"], e["message"]) for e in body["data"]["requestDeviceExtension"]["userErrors"]] == [
        ("INVALID_STATE", ["trialId"], "A device extension request is waiting for the trials team.")]
