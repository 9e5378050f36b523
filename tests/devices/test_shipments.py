"""R-DEV-01, R-DEV-02, R-RMA-01..03 over GraphQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server import clock
from server.db.models import AuditEvent, OutboxEmail, Shipment
from server.domain.devices import shipments
from server.enums import Role
from server.schema.node import to_global_id
from tests.devices.kit import (
    LABEL, PHONE, RECORD, REQUEST, RETURN, active_trial, codes, ok, request_and_ship,
)
from tests.factories import partner_team
from tests.helpers import gql

DEMO_ORDERS = """query($c: ID, $e: String, $n: [String!]) { demoOrders(customerOrgId: $c, adminEmail: $e,
  serialNumbers: $n) { id demoOrderNumber items { serialNumber } } }"""
QUEUES = "{ shipmentsToRecord { id status } returnsToReconcile { id status } }"


async def test_r_dev_01_one_shipment_per_device_type(client, sessionmaker):
    t = await active_trial(sessionmaker)
    first = await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.sales)
    assert ok(first, "requestShipment", "shipment")["status"] == "REQUESTED"
    other_phone = {**PHONE, "model": "Cisco Desk Phone 9851"}
    second = await gql(client, REQUEST, {"t": t.trial_gid, "d": other_phone}, token=t.sales)
    assert codes(second, "requestShipment") == ["SHIPMENT_EXISTS"]
    headset = {"type": "HEADSET", "model": "Cisco Headset 730", "quantity": 5}
    assert ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": headset}, token=t.sales), "requestShipment", "shipment")
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Shipment)) == 2


async def test_r_dev_01_phones_need_poe_confirmed(client, sessionmaker):
    t = await active_trial(sessionmaker)
    body = await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "poeConfirmed": False}}, token=t.sales)
    assert codes(body, "requestShipment") == ["POE_NOT_CONFIRMED"]
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(Shipment)) == 0


async def test_r_dev_01_bad_model_or_quantity_is_a_clear_error(client, sessionmaker):
    t = await active_trial(sessionmaker)
    unknown = await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "model": "Nokia 3310"}}, token=t.sales)
    assert codes(unknown, "requestShipment") == ["INVALID_INPUT"]
    wrong_type = await gql(client, REQUEST, {"t": t.trial_gid, "d": {"type": "HEADSET", "model": "Cisco Desk",
                                                                     "quantity": 1}}, token=t.sales)
    assert codes(wrong_type, "requestShipment") == ["INVALID_INPUT"]
    for quantity in (0, 11):
        body = await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "quantity": quantity}}, token=t.sales)
        assert codes(body, "requestShipment") == ["INVALID_INPUT"]
        assert body["data"]["requestShipment"]["userErrors"][0]["field"] == ["device", "quantity"]


async def test_r_dev_01_needs_devices_in_the_trial(client, sessionmaker):
    t = await active_trial(sessionmaker, services=("MESSAGING",))
    body = await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.sales)
    assert codes(body, "requestShipment") == ["INVALID_STATE"]


async def test_r_dev_01_skip_devices_is_recorded(client, sessionmaker):
    t = await active_trial(sessionmaker)
    skip = """mutation($t: ID!) { skipDevices(trialId: $t, skip: OWN_DEVICES) { trial { id } userErrors { code } } }"""
    assert ok(await gql(client, skip, {"t": t.trial_gid}, token=t.sales), "skipDevices", "trial")
    from server.db.models import Trial

    async with sessionmaker() as db:
        assert (await db.get(Trial, t.trial_id)).device_skip == "OWN_DEVICES"
    audit = await gql(client, "query($c: ID!) { auditEvents(customerId: $c) { action subjectType before after } }",
                      {"c": t.customer_gid}, token=t.sales)
    skipped = [e for e in audit["data"]["auditEvents"] if e["action"] == "trial.devices_skipped"]
    assert skipped == [{"action": "trial.devices_skipped", "subjectType": "Trial", "before": {"device_skip": None},
                        "after": {"device_skip": "OWN_DEVICES"}}]


async def test_r_org_02_another_partners_trial_answers_not_found(client, sessionmaker):
    t = await active_trial(sessionmaker)
    stranger = await partner_team(sessionmaker)
    body = await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=stranger.tokens[Role.SALES_FULL_ADMIN])
    assert codes(body, "requestShipment") == ["NOT_FOUND"]
    readonly = await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.team.tokens[Role.READ_ONLY])
    assert codes(readonly, "requestShipment") == ["FORBIDDEN"]


async def test_r_dev_02_record_shipment_sets_carrier_due_date_and_emails_license(client, sessionmaker):
    t = await active_trial(sessionmaker, country="US", duration=60)
    shipped = await request_and_ship(client, t, serials=(" sn-a ", "sn-b"))
    today = clock.today()
    assert shipped["status"] == "SHIPPED" and shipped["carrier"] == "UPS" and shipped["demoOrderNumber"] == "DEMO-1"
    assert shipped["dueDate"] == (today + timedelta(days=60)).isoformat()
    assert shipped["returnBy"] == (today + timedelta(days=74)).isoformat()
    assert [i["serialNumber"] for i in shipped["items"]] == ["SN-A", "SN-B"]
    async with sessionmaker() as db:
        mails = list(await db.scalars(select(OutboxEmail).where(OutboxEmail.kind == "device_license")))
        audit = await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "shipment.recorded"))
    assert len(mails) == 1 and str((today + timedelta(days=60)).year) in mails[0].body_text
    assert mails[0].recipient.startswith("admin")
    assert audit == 1


async def test_r_rma_01_license_email_tells_the_country_s_return_instructions(client, sessionmaker):
    """R-RMA-01: US boxes hold a UPS return label; elsewhere the customer contacts the carrier."""
    bodies = {}
    for country in ("US", "NO", "AU", "BR"):
        t = await active_trial(sessionmaker, country=country)
        await request_and_ship(client, t, serials=(f"{country}-1", f"{country}-2"))
        async with sessionmaker() as db:
            mail = await db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "device_license",
                                                            OutboxEmail.trial_id == t.trial_id))
        bodies[country] = mail.body_text
    assert "UPS return label" in bodies["US"] and "DEMO-1" in bodies["US"]
    assert "Contact DHL" in bodies["NO"]
    assert "Contact Expeditors" in bodies["AU"]
    assert "trials team" in bodies["BR"]


async def test_r_dev_02_carrier_by_country():
    assert shipments.carrier_for("US") == "UPS"
    assert shipments.carrier_for("CA") == "DHL" and shipments.carrier_for("NO") == "DHL"
    assert shipments.carrier_for("GB") == "DHL" and shipments.carrier_for("ZA") == "DHL"
    assert shipments.carrier_for("AU") == "Expeditors" and shipments.carrier_for("NZ") == "Expeditors"
    assert shipments.carrier_for("JP") is None
    assert "trials team" in shipments.return_instructions("JP")


async def test_r_dev_02_serials_one_per_item_and_unique(client, sessionmaker):
    t = await active_trial(sessionmaker)
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.sales), "requestShipment", "shipment")
    on = clock.today().isoformat()
    short = await gql(client, RECORD, {"s": shipment["id"], "o": "D1", "n": ["X1"], "on": on}, token=t.trials_team)
    assert codes(short, "recordShipment") == ["INVALID_INPUT"]
    twice = await gql(client, RECORD, {"s": shipment["id"], "o": "D1", "n": ["X1", "x1"], "on": on}, token=t.trials_team)
    assert codes(twice, "recordShipment") == ["INVALID_INPUT"]
    other = await active_trial(sessionmaker, trials_team=t.trials_team)
    await request_and_ship(client, other, serials=("X1", "X2"))
    taken = await gql(client, RECORD, {"s": shipment["id"], "o": "D1", "n": ["X1", "X3"], "on": on}, token=t.trials_team)
    assert codes(taken, "recordShipment") == ["INVALID_INPUT"]
    async with sessionmaker() as db:
        row = await db.scalar(select(Shipment).where(Shipment.trial_id == t.trial_id))
    assert row.status == "REQUESTED" and row.demo_order_number is None


async def test_r_role_05_only_the_trials_team_records_shipments(client, sessionmaker):
    t = await active_trial(sessionmaker)
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.sales), "requestShipment", "shipment")
    body = await gql(client, RECORD, {"s": shipment["id"], "o": "D1", "n": ["A", "B"], "on": clock.today().isoformat()},
                     token=t.team.tokens[Role.PARTNER_FULL_ADMIN])
    assert codes(body, "recordShipment") == ["FORBIDDEN"]
    queues = await gql(client, QUEUES, token=t.trials_team)
    assert [s["id"] for s in queues["data"]["shipmentsToRecord"]] == [shipment["id"]]
    partner_view = await gql(client, QUEUES, token=t.sales)
    assert partner_view["data"]["shipmentsToRecord"] == []


async def test_r_rma_01_return_label_us_only(client, sessionmaker):
    us = await active_trial(sessionmaker, country="US")
    shipped = await request_and_ship(client, us)
    label = ok(await gql(client, LABEL, {"s": shipped["id"]}, token=us.sales), "requestReturnLabel", "shipment")
    assert label["returnLabelsRequested"] == 1
    ca = await active_trial(sessionmaker, country="CA", trials_team=us.trials_team)
    shipped_ca = await request_and_ship(client, ca, serials=("C1", "C2"))
    body = await gql(client, LABEL, {"s": shipped_ca["id"]}, token=ca.sales)
    assert codes(body, "requestReturnLabel") == ["RETURN_LABEL_US_ONLY"]
    assert "DHL" in body["data"]["requestReturnLabel"]["userErrors"][0]["message"]


async def test_r_rma_02_exact_match_closes_the_return(client, sessionmaker):
    t = await active_trial(sessionmaker)
    shipped = await request_and_ship(client, t)
    body = await gql(client, RETURN, {"s": shipped["id"], "n": ["sn2", "SN1"]}, token=t.trials_team)
    returned = ok(body, "recordReturn", "shipment")
    assert returned["status"] == "RETURNED" and returned["returnMismatch"] is None


async def test_r_rma_02_mismatched_serials_keep_return_open(client, sessionmaker):
    t = await active_trial(sessionmaker)
    shipped = await request_and_ship(client, t)
    body = await gql(client, RETURN, {"s": shipped["id"], "n": ["SN1", "FOREIGN"]}, token=t.trials_team)
    result = ok(body, "recordReturn", "shipment")
    assert result["status"] == "RETURN_MISMATCH"
    assert result["returnMismatch"] == {"missing": ["SN2"], "unexpected": ["FOREIGN"]}
    queue = await gql(client, QUEUES, token=t.trials_team)
    assert [s["status"] for s in queue["data"]["returnsToReconcile"]] == ["RETURN_MISMATCH"]
    later = ok(await gql(client, RETURN, {"s": shipped["id"], "n": ["SN2"]}, token=t.trials_team), "recordReturn",
               "shipment")
    assert later["status"] == "RETURNED"


async def test_r_rma_03_demo_orders_by_org_and_admin_or_serials_only_own_customers(client, sessionmaker):
    t = await active_trial(sessionmaker)
    shipped = await request_and_ship(client, t, serials=("Q1", "Q2"))
    from server.db.models import CustomerOrg

    async with sessionmaker() as db:
        admin = (await db.get(CustomerOrg, t.customer_id)).admin_email
    by_org = await gql(client, DEMO_ORDERS, {"c": t.customer_gid, "e": admin.upper()}, token=t.sales)
    assert [s["id"] for s in by_org["data"]["demoOrders"]] == [shipped["id"]]
    by_serial = await gql(client, DEMO_ORDERS, {"n": ["q2"]}, token=t.team.tokens[Role.READ_ONLY])
    assert [s["demoOrderNumber"] for s in by_serial["data"]["demoOrders"]] == ["DEMO-1"]
    wrong_admin = await gql(client, DEMO_ORDERS, {"c": t.customer_gid, "e": "nobody@x.example"}, token=t.sales)
    assert wrong_admin["data"]["demoOrders"] == []
    stranger = await partner_team(sessionmaker)
    for variables in ({"c": t.customer_gid, "e": admin}, {"n": ["Q1"]}):
        body = await gql(client, DEMO_ORDERS, variables, token=stranger.tokens[Role.PARTNER_FULL_ADMIN])
        assert body["data"]["demoOrders"] == []


async def test_r_edit_01_devices_outstanding_until_returned(client, sessionmaker):
    t = await active_trial(sessionmaker)
    shipped = await request_and_ship(client, t)
    async with sessionmaker() as db:
        assert await shipments.devices_outstanding(db, t.trial_id)
    await gql(client, RETURN, {"s": shipped["id"], "n": ["SN1", "SN2"]}, token=t.trials_team)
    async with sessionmaker() as db:
        assert not await shipments.devices_outstanding(db, t.trial_id)


async def test_r_cancel_01_start_returns_makes_devices_due_now(client, sessionmaker):
    t = await active_trial(sessionmaker)
    shipped = await request_and_ship(client, t)
    await gql(client, REQUEST, {"t": t.trial_gid, "d": {"type": "HEADSET", "model": "Cisco Headset 730", "quantity": 1}},
              token=t.sales)
    from server.db.models import Trial

    async with sessionmaker() as db, db.begin():
        await shipments.start_returns(db, await db.get(Trial, t.trial_id))
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(Shipment).where(Shipment.trial_id == t.trial_id)))
    assert [(to_global_id("Shipment", r.id), r.status) for r in rows] == [(shipped["id"], "RETURN_DUE")]
    assert rows[0].due_date == clock.today() and rows[0].return_by == clock.today() + timedelta(days=14)
