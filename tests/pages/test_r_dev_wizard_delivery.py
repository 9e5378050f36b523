"""R-DEV-01 / R-DEV-02 in the portal: the start wizard's devices step asks where the devices go and
who receives them (required) and the phones' PoE confirmation before the review; the review and the
shipment show the address; the wizard and the shipment form offer the catalog's own limits."""
import re

from sqlalchemy import select

from server.db.models import DeviceModel, Shipment
from tests.pages.test_customer_setup_forms import a_trial
from tests.pages.test_trial_wizard import CUSTOMER, post

ANSWERS = {**CUSTOMER, "services": ["MESSAGING", "DEVICES"], "licenseCount": "10", "durationDays": "30"}
PHONES = {"devices.PHONE.model": "Cisco Desk Phone 9841", "devices.PHONE.quantity": "2"}
DELIVERY = {"devices.shippingAddress.line1": "Storgata 1", "devices.shippingAddress.postalCode": "0155",
            "devices.shippingAddress.city": "Oslo", "devices.contact.name": "Kari Nordmann",
            "devices.contact.phone": "912 34 567"}


async def test_r_dev_01_poe_and_the_delivery_are_asked_on_the_devices_step_before_review(client, sales):
    page = await post(client, sales, "/trials/new", {"step": "services", "go": "next", **ANSWERS})
    assert "<h2>Devices</h2>" in page.text and 'name="devices.shippingAddress.line1"' in page.text
    refused = await post(client, sales, "/trials/new", {"step": "devices", "go": "next", **ANSWERS, **PHONES})
    assert refused.status_code == 422 and "<h2>Devices</h2>" in refused.text and 'value="save"' not in refused.text
    for field in ("PHONE-poeConfirmed", "shippingAddress-line1", "shippingAddress-postalCode", "shippingAddress-city",
                  "contact-name", "contact-phone"):
        assert f'id="devices-{field}-error"' in refused.text, field
    nothing = await post(client, sales, "/trials/new", {"step": "devices", "go": "next", **ANSWERS})
    assert nothing.status_code == 200 and 'value="save"' in nothing.text   # no devices: nothing to deliver
    review = await post(client, sales, "/trials/new", {"step": "devices", "go": "next", **ANSWERS, **PHONES,
                                                         **DELIVERY, "devices.PHONE.poeConfirmed": "on"})
    assert review.status_code == 200 and 'value="save"' in review.text
    shown = re.search(r"<dt>Shipping address</dt><dd>(.*?)</dd>", review.text, re.S).group(1)
    assert "Kari Nordmann" in shown and "Storgata 1" in shown and "0155 Oslo" in shown and "Norway" in shown


async def test_r_dev_02_the_wizard_saves_the_delivery_in_e164(client, sales, sessionmaker):
    answers = {**ANSWERS, **PHONES, **DELIVERY, "devices.PHONE.poeConfirmed": "on"}
    saved = await post(client, sales, "/trials/new", {"step": "setup", "go": "setup-no", **answers})
    assert saved.status_code == 303
    async with sessionmaker() as db:
        row = await db.scalar(select(Shipment))
    assert (row.address_line1, row.address_city, row.contact_name, row.contact_phone) == (
        "Storgata 1", "Oslo", "Kari Nordmann", "+4791234567")


async def test_r_dev_02_a_bad_phone_returns_to_the_devices_step_with_its_message(client, sales, sessionmaker):
    answers = {**ANSWERS, **PHONES, **DELIVERY, "devices.PHONE.poeConfirmed": "on", "devices.contact.phone": "12"}
    refused = await post(client, sales, "/trials/new", {"step": "setup", "go": "setup-no", **answers})
    assert refused.status_code == 422 and "<h2>Devices</h2>" in refused.text
    message = re.search(r'<small class="field-error" id="devices-contact-phone-error">([^<]*)<', refused.text)
    assert message and "12" in message.group(1) and "phone number" in message.group(1)
    assert 'value="12"' in refused.text                         # what was typed is kept
    async with sessionmaker() as db:
        assert await db.scalar(select(Shipment)) is None


async def test_r_dev_01_the_wizard_and_the_shipment_form_offer_the_catalog_s_limits(client, sales, sessionmaker, team):
    async with sessionmaker() as db:
        catalog = {m.model: m.max_quantity for m in await db.scalars(select(DeviceModel))}
    step = await post(client, sales, "/trials/new", {"step": "services", "go": "next", **ANSWERS})
    customer_id, _ = await a_trial(client, sessionmaker, team, ["MESSAGING", "DEVICES"])
    detail = await client.get(f"/customers/{customer_id}")
    for html in (step.text, detail.text):
        offered = {m: int(n) for m, n in re.findall(r'<option value="(?:[A-Z_]+:)?([^"]+)" data-max="(\d+)"', html)}
        assert offered == catalog
    room_max = re.search(r'id="dev-ROOM_DEVICE-quantity"[^>]* max="(\d+)"', step.text).group(1)
    assert int(room_max) == max(n for m, n in catalog.items() if m in ("Cisco Room Bar", "Cisco Board Pro 55")) == 2
    board = {**ANSWERS, **DELIVERY, "devices.ROOM_DEVICE.model": "Cisco Board Pro 55", "devices.ROOM_DEVICE.quantity": "2"}
    refused = await post(client, sales, "/trials/new", {"step": "devices", "go": "next", **board})
    assert refused.status_code == 422 and 'id="devices-ROOM_DEVICE-quantity-error"' in refused.text  # before the review
    answers = {**board, "devices.ROOM_DEVICE.model": "Cisco Room Bar"}
    review = await post(client, sales, "/trials/new", {"step": "devices", "go": "next", **answers})
    assert review.status_code == 200 and 'value="save"' in review.text
    saved = await post(client, sales, "/trials/new", {"step": "setup", "go": "setup-no", **answers})
    assert saved.status_code == 303
