"""R-DEV-01/02 and R-RMA-01, the facts of a shipment as they reach people: one device is an order,
a recorded shipment's audit event carries its demo order number and carrier (SPEC §9), and the
overdue email tells the customer which carrier to return with; a cancelled trial (R-CANCEL-01) withdraws what
was not sent and asks back only what is still out."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from server import clock
from server.db.models import CustomerUser, Deadline, OutboxEmail, Shipment
from server.domain.notifications import outbox
from server.enums import Role
from server.schema.node import decode_id
from tests.devices.kit import LABEL, PHONE, RECORD, REQUEST, RETURN, active_trial, advance, ok, request_and_ship, run_due
from tests.factories import partner_team
from tests.helpers import gql

LOG = """query($filter: AuditLogFilter) { auditLog(first: 10, filter: $filter) {
  edges { node { action subjectType before after } } } }"""


async def test_r_dev_01_a_single_device_is_an_order(client, sessionmaker):
    """Kills the lower bound of `catalog.within_limit` raised (`1 <= quantity` -> `2 <= quantity`, a
    survivor of `make mutate`): a customer trying one phone is refused with "Order 1 to 10"."""
    t = await active_trial(sessionmaker)
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "quantity": 1}}, token=t.sales),
                  "requestShipment", "shipment")
    assert (shipment["quantity"], shipment["status"]) == (1, "REQUESTED")


async def test_r_dev_02_the_recorded_shipment_is_audited_with_its_demo_order_and_carrier(client, sessionmaker):
    """Kills a renamed key of `shipments.snapshot` (e.g. "demo_order_number" -> "XXdemo_order_numberXX",
    a survivor of `make mutate`): the audit trail would lose the demo order number R-RMA-03 looks
    shipments up by."""
    t = await active_trial(sessionmaker, country="NO")
    await request_and_ship(client, t)
    body = await gql(client, LOG, {"filter": {"action": "shipment.recorded"}},
                     token=t.team.tokens[Role.PARTNER_FULL_ADMIN])
    [event] = [edge["node"] for edge in body["data"]["auditLog"]["edges"]]
    assert event["subjectType"] == "Shipment"
    assert (event["before"]["demo_order_number"], event["before"]["carrier"], event["before"]["status"]) == (
        None, None, "REQUESTED")
    assert {key: event["after"][key] for key in ("status", "demo_order_number", "carrier", "quantity", "serials")} == {
        "status": "SHIPPED", "demo_order_number": "DEMO-1", "carrier": "DHL", "quantity": 2, "serials": ["SN1", "SN2"]}


async def test_r_rma_01_the_overdue_email_says_which_carrier_to_return_with(client, sessionmaker):
    """R-RMA-01 "elsewhere the customer contacts the carrier" (DHL in Norway), said in the overdue
    email R-RMA-02 sends: kills the `carrier` given to it renamed (`returns.on_return_overdue`, a
    survivor of `make mutate`)."""
    t = await active_trial(sessionmaker, country="NO", duration=30)
    await request_and_ship(client, t)
    await advance(sessionmaker, 45)
    assert "return_overdue" in await run_due(sessionmaker)
    async with sessionmaker() as db:
        mails = list(await db.scalars(select(OutboxEmail).where(OutboxEmail.kind == "return_overdue")))
    assert mails
    for mail in mails:
        subject, text, html = outbox.rendered(mail)
        assert "DEMO-1" in text and "Please return them now with DHL." in text, text
        assert "with DHL" in html


async def test_r_rma_02_an_overdue_partial_return_names_the_serials_still_missing(client, sessionmaker):
    """R-RMA-02: a partial return stays open, and when it is overdue the email says which serial
    numbers are still out, in the reader's language: kills the `missing` given to the email renamed
    (`returns.on_return_overdue`, a survivor of `make mutate`: the templates did not use it)."""
    t = await active_trial(sessionmaker, country="NO", duration=30)
    shipped = await request_and_ship(client, t, {**PHONE, "quantity": 3}, serials=("SN1", "SN2", "SN3"))
    partial = ok(await gql(client, RETURN, {"s": shipped["id"], "n": ["SN2"]}, token=t.trials_team),
                 "recordReturn", "shipment")
    assert partial["returnMismatch"] == {"missing": ["SN1", "SN3"], "unexpected": []}
    async with sessionmaker() as db, db.begin():   # the customer's admins read Norwegian, the partner English
        await db.execute(update(CustomerUser).values(locale="nb"))
    await advance(sessionmaker, 45)
    assert "return_overdue" in await run_due(sessionmaker)
    async with sessionmaker() as db:
        mails = list(await db.scalars(select(OutboxEmail).where(OutboxEmail.kind == "return_overdue")))
    assert {mail.locale for mail in mails} == {"en", "nb"}
    for mail in mails:
        _, text, html = outbox.rendered(mail)
        line = "Mangler fortsatt: SN1, SN3." if mail.locale == "nb" else "Still missing: SN1, SN3."
        assert line in text and line in html, text


async def test_r_rma_01_an_overdue_return_with_nothing_back_lists_no_serials(client, sessionmaker):
    """The line about missing serials is only for a partial return (no "Still missing: ." line)."""
    t = await active_trial(sessionmaker, country="NO", duration=30)
    await request_and_ship(client, t)
    await advance(sessionmaker, 45)
    await run_due(sessionmaker)
    async with sessionmaker() as db:
        mails = list(await db.scalars(select(OutboxEmail).where(OutboxEmail.kind == "return_overdue")))
    assert mails and not any("missing" in outbox.rendered(mail)[1].lower() for mail in mails)


CANCEL = "mutation($t: ID!) { cancelTrial(trialId: $t) { trial { state } userErrors { code field message } } }"


async def test_r_cancel_01_a_shipment_not_yet_sent_is_withdrawn_and_audited_as_that_shipment(client, sessionmaker):
    """R-CANCEL-01 (devices due back now; what was never sent is withdrawn) and SPEC §9: the withdrawal
    is in the audit trail as an event of the shipment, with what it was. Kills the withdrawal's subject
    type renamed (`shipments.start_returns`: "Shipment" -> "XXShipmentXX", a survivor of `make mutate`):
    the log would name a subject that does not exist."""
    t = await active_trial(sessionmaker, country="NO")
    requested = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.sales), "requestShipment",
                   "shipment")
    body = await gql(client, CANCEL, {"t": t.trial_gid}, token=t.sales)
    assert body["data"]["cancelTrial"]["userErrors"] == [], body
    body = await gql(client, LOG, {"filter": {"action": "shipment.withdrawn"}},
                     token=t.team.tokens[Role.PARTNER_FULL_ADMIN])
    [event] = [edge["node"] for edge in body["data"]["auditLog"]["edges"]]
    assert event["subjectType"] == "Shipment"
    assert (event["before"]["status"], event["before"]["quantity"], event["after"]) == ("REQUESTED", 2, None)
    assert requested["status"] == "REQUESTED"


async def test_r_cancel_01_devices_already_returned_are_not_asked_back(client, sessionmaker):
    """R-CANCEL-01 makes the devices still out due back now; devices already returned are left as they
    are: no new due date, no return deadlines, no "return started" in the audit trail. Kills the skip
    in `shipments.start_returns` loosened (`not in OUT or due_date is None or ...` -> `not in OUT and
    due_date is None or ...`, a survivor of `make mutate`): a returned shipment would be asked back
    and later reported overdue."""
    t = await active_trial(sessionmaker, country="NO")
    shipped = await request_and_ship(client, t)
    returned = ok(await gql(client, RETURN, {"s": shipped["id"], "n": ["SN1", "SN2"]}, token=t.trials_team),
                  "recordReturn", "shipment")
    assert returned["status"] == "RETURNED" and returned["dueDate"] > clock.today().isoformat()
    body = await gql(client, CANCEL, {"t": t.trial_gid}, token=t.sales)
    assert body["data"]["cancelTrial"]["userErrors"] == [], body
    async with sessionmaker() as db:
        shipment = await db.get(Shipment, decode_id(shipped["id"], "Shipment"))
        deadlines = list(await db.scalars(select(Deadline.kind).where(
            Deadline.subject_type == "Shipment", Deadline.subject_id == shipment.id,
            Deadline.cancelled_at.is_(None), Deadline.done_at.is_(None))))
    assert (shipment.status, shipment.due_date.isoformat()) == ("RETURNED", returned["dueDate"])
    assert deadlines == []
    body = await gql(client, LOG, {"filter": {"action": "shipment.return_started"}},
                     token=t.team.tokens[Role.PARTNER_FULL_ADMIN])
    assert body["data"]["auditLog"]["edges"] == []


async def test_r_dev_02_recording_a_shipment_says_what_is_wrong_on_its_field(client, sessionmaker):
    """R-DEV-02's demo order number and ship date, refused on their own fields with what to enter,
    nothing recorded: kills the two messages of `shipments.record_shipment` mutated ("XXEnter the demo
    order number ...XX", "XXThe ship date cannot be in the future.XX": survivors of `make mutate`)."""
    t = await active_trial(sessionmaker)
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.sales), "requestShipment",
                  "shipment")
    today = clock.today()
    for order, on, field, message in [
            ("D" * 65, today, "demoOrderNumber", "Enter the demo order number (up to 64 characters)."),
            ("DEMO-1", today + timedelta(days=1), "shippedOn", "The ship date cannot be in the future.")]:
        body = await gql(client, RECORD, {"s": shipment["id"], "o": order, "n": ["SN1", "SN2"], "on": on.isoformat()},
                         token=t.trials_team)
        payload = body["data"]["recordShipment"]
        assert [(e["code"], e["field"], e["message"]) for e in payload["userErrors"]] == [
            ("INVALID_INPUT", [field], message)], body
        assert payload["shipment"] is None


async def test_r_org_02_another_partners_shipment_is_no_such_shipment(client, sessionmaker):
    """R-ORG-02: another partner's shipment answers as a missing one, on its field: kills the name in
    that answer mutated (`shipments.get_shipment`, not_found("XXshipmentXX"), a survivor of `make
    mutate`: "No such XXshipmentXX.")."""
    t = await active_trial(sessionmaker)
    shipped = await request_and_ship(client, t)
    other = await partner_team(sessionmaker)
    body = await gql(client, LABEL, {"s": shipped["id"]}, token=other.tokens[Role.PARTNER_FULL_ADMIN])
    assert [(e["code"], e["field"], e["message"]) for e in body["data"]["requestReturnLabel"]["userErrors"]] == [
        ("NOT_FOUND", ["shipmentId"], "No such shipment.")]
