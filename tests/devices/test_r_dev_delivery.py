"""R-DEV-01 / R-DEV-02 over GraphQL: a shipment carries where its devices are delivered and who
receives them (phone stored in E.164); a bad address or phone is a userError on its field and
changes nothing. Both backends (the planner answers the reads on PostgreSQL)."""
from __future__ import annotations

from sqlalchemy import func, select

from server.db.models import CustomerOrg, Shipment
from server.enums import Role
from tests.devices.kit import PHONE, REQUEST, active_trial, ok
from tests.devices.test_wizard import START, wizard
from tests.factories import partner_team
from tests.helpers import gql

OSLO = {"line1": "Storgata 1", "line2": "3. etasje", "city": "Oslo", "postalCode": "0155", "country": "NO"}
KARI = {"name": "Kari Nordmann", "phone": "912 34 567"}
ADDRESS_FIELDS = "shippingAddress { line1 line2 city postalCode region country contactName contactPhone }"
READ = f"query($id: ID!) {{ node(id: $id) {{ ... on Shipment {{ id {ADDRESS_FIELDS} }} }} }}"
TRIAL_SHIPMENTS = f"query($id: ID!) {{ node(id: $id) {{ ... on Trial {{ shipments {{ deviceType {ADDRESS_FIELDS} }} }} }} }}"
EXPECTED = {"line1": "Storgata 1", "line2": "3. etasje", "city": "Oslo", "postalCode": "0155", "region": None,
            "country": "NO", "contactName": "Kari Nordmann", "contactPhone": "+4791234567"}


async def _shipments(sessionmaker) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(Shipment))


def _errors(body: dict, name: str) -> dict[str, str]:
    return {".".join(e["field"]): e["code"] for e in body["data"][name]["userErrors"]}


async def test_r_dev_02_request_shipment_keeps_the_delivery_address_and_contact_in_e164(client, sessionmaker):
    t = await active_trial(sessionmaker, country="NO")
    device = {**PHONE, "shippingAddress": OSLO, "contact": KARI}
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": device}, token=t.sales), "requestShipment",
                  "shipment")
    read = await gql(client, READ, {"id": shipment["id"]}, token=t.sales)
    assert read["data"]["node"]["shippingAddress"] == EXPECTED
    # the trials team reads it where it records the shipment
    queue = await gql(client, f"{{ shipmentsToRecord {{ id {ADDRESS_FIELDS} }} }}", token=t.trials_team)
    assert queue["data"]["shipmentsToRecord"] == [{"id": shipment["id"], "shippingAddress": EXPECTED}]


async def test_r_dev_02_without_a_delivery_the_address_is_null(client, sessionmaker):
    """Optional in the API for now (API.graphql): a request without one still works, and reads null."""
    t = await active_trial(sessionmaker, country="NO")
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": PHONE}, token=t.sales), "requestShipment",
                  "shipment")
    read = await gql(client, READ, {"id": shipment["id"]}, token=t.sales)
    assert read["data"]["node"]["shippingAddress"] is None


async def test_r_dev_02_bad_phone_is_a_user_error_on_its_field_and_changes_nothing(client, sessionmaker):
    t = await active_trial(sessionmaker, country="NO")
    for phone in ("12", "not a number", ""):
        body = await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "shippingAddress": OSLO,
                                                                   "contact": {**KARI, "phone": phone}}}, token=t.sales)
        assert _errors(body, "requestShipment") == {"device.contact.phone": "INVALID_PHONE_NUMBER"}, phone
        assert body["data"]["requestShipment"]["shipment"] is None
        assert phone in body["data"]["requestShipment"]["userErrors"][0]["message"]
    assert await _shipments(sessionmaker) == 0


async def test_r_dev_02_bad_address_gives_every_problem_on_its_field(client, sessionmaker):
    t = await active_trial(sessionmaker, country="US")
    bad = {"line1": " ", "city": "Austin", "postalCode": "ABC", "country": "US"}
    body = await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "shippingAddress": bad,
                                                               "contact": {"name": "", "phone": "+1 512 555 0100"}}},
                     token=t.sales)
    assert _errors(body, "requestShipment") == {
        "device.shippingAddress.line1": "INVALID_ADDRESS", "device.shippingAddress.postalCode": "INVALID_ADDRESS",
        "device.shippingAddress.region": "INVALID_ADDRESS", "device.contact.name": "INVALID_INPUT"}
    norwegian = {**KARI, "phone": "+47 912 34 567"}  # a foreign phone is fine; an address abroad is not
    abroad = await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "shippingAddress": OSLO, "contact": norwegian}},
                       token=t.sales)
    assert _errors(abroad, "requestShipment")["device.shippingAddress.country"] == "INVALID_ADDRESS"
    half = await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "contact": norwegian}}, token=t.sales)
    assert _errors(half, "requestShipment") == {"device.shippingAddress": "INVALID_ADDRESS"}
    assert await _shipments(sessionmaker) == 0
    texas = {"line1": "1 Congress Ave", "city": "Austin", "postalCode": "78701", "region": "TX", "country": "us"}
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "shippingAddress": texas, "contact": {
        "name": "Sam Lee", "phone": "(512) 555-0100"}}}, token=t.sales), "requestShipment", "shipment")
    read = (await gql(client, READ, {"id": shipment["id"]}, token=t.sales))["data"]["node"]["shippingAddress"]
    assert (read["region"], read["country"], read["contactPhone"]) == ("US-TX", "US", "+15125550100")


async def test_r_dev_01_start_trial_devices_carry_their_delivery(client, sessionmaker):
    team = await partner_team(sessionmaker)
    headset = {"type": "HEADSET", "model": "Cisco Headset 730", "quantity": 3, "shippingAddress": OSLO, "contact": KARI}
    devices = [{**PHONE, "shippingAddress": OSLO, "contact": KARI}, headset]
    trial = ok(await gql(client, START, {"input": wizard(devices)}, token=team.tokens[Role.SALES_ADMIN]),
               "startTrial", "trial")
    read = await gql(client, TRIAL_SHIPMENTS, {"id": trial["id"]}, token=team.tokens[Role.SALES_ADMIN])
    assert [s["shippingAddress"] for s in read["data"]["node"]["shipments"]] == [EXPECTED, EXPECTED]


async def test_r_dev_01_start_trial_with_a_bad_phone_starts_nothing(client, sessionmaker):
    team = await partner_team(sessionmaker)
    devices = [{**PHONE, "shippingAddress": OSLO, "contact": {**KARI, "phone": "+47 12"}}]
    body = await gql(client, START, {"input": wizard(devices)}, token=team.tokens[Role.SALES_ADMIN])
    assert _errors(body, "startTrial") == {"devices.0.contact.phone": "INVALID_PHONE_NUMBER"}
    assert body["data"]["startTrial"]["trial"] is None
    assert await _shipments(sessionmaker) == 0
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(CustomerOrg).where(
            CustomerOrg.name == "Devices AS")) == 0


async def test_r_dev_02_the_device_license_email_says_where_the_devices_go(client, sessionmaker):
    from server import clock
    from server.db.models import OutboxEmail
    from tests.devices.kit import RECORD

    t = await active_trial(sessionmaker, country="NO")
    shipment = ok(await gql(client, REQUEST, {"t": t.trial_gid, "d": {**PHONE, "shippingAddress": OSLO, "contact": KARI}},
                            token=t.sales), "requestShipment", "shipment")
    ok(await gql(client, RECORD, {"s": shipment["id"], "o": "DEMO-7", "n": ["A1", "A2"], "on": clock.today().isoformat()},
                 token=t.trials_team), "recordShipment", "shipment")
    async with sessionmaker() as db:
        mail = await db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "device_license"))
    assert "Kari Nordmann (+4791234567), Storgata 1, 3. etasje, 0155 Oslo" in mail.body_text
