"""Customer page forms for devices (R-DEV-01, R-RMA-01, R-EXT-02), calling (R-SVC-03) and a failed
provisioning (R-NEW-04): 303 on success, errors next to their fields with the typed values kept."""
import re

from server.enums import Role
from tests import factories
from tests.helpers import gql
from tests.pages.test_customer_detail import QUERY
from tests.pages.test_customers_page import START

NO_ADDRESS = {"name": "Hovedkontor", "line1": "Karl Johans gate 1", "postalCode": "0154", "city": "Oslo",
              "country": "NO", "timeZone": "Europe/Oslo"}


SHIP_TO = {"device.shippingAddress.line1": "Storgata 1", "device.shippingAddress.postalCode": "0155",
           "device.shippingAddress.city": "Oslo", "device.shippingAddress.country": "NO",
           "device.contact.name": "Kari Nordmann", "device.contact.phone": "912 34 567"}


async def a_trial(client, sessionmaker, team, services, **extra):
    token = team.tokens[Role.SALES_FULL_ADMIN]
    body = await gql(client, START, {"input": {
        "companyName": "Skjærgård AS", "adminEmail": "it@skjaergard.example", "businessVertical": "Education",
        "country": "NO", "supportedLocationConfirmed": True, "services": list(services), "licenseCount": 3,
        "durationDays": 30, **extra}}, token=token)
    trial_id = body["data"]["startTrial"]["trial"]["id"]
    await factories.provisioned(sessionmaker, trial_id)
    customer_id = (await gql(client, QUERY, {"id": trial_id}, token=token))["data"]["trial"]["customer"]["id"]
    return customer_id, trial_id


async def test_r_dev_01_phones_need_poe_confirmed_then_the_shipment_is_requested(client, sessionmaker, team, sales):
    customer_id, trial_id = await a_trial(client, sessionmaker, team, ["MESSAGING", "DEVICES"])
    page = await client.get(f"/customers/{customer_id}")
    assert "Request a shipment" in page.text and "Skip devices" in page.text and "PoE" in page.text
    url = f"/customers/{customer_id}/trials/{trial_id}/ship"
    refused = await client.post(url, data={"csrf_token": sales, "device": "PHONE:Cisco Desk Phone 9841",
                                           "quantity": "4"})
    assert refused.status_code == 422
    assert 'id="device-poeConfirmed-error"' in refused.text
    # R-DEV-02: required in the portal: every missing part of the delivery next to its field, at once
    for field in ("shippingAddress-line1", "shippingAddress-postalCode", "shippingAddress-city", "contact-name",
                  "contact-phone"):
        assert f'id="device-{field}-error"' in refused.text, field
    assert 'value="PHONE:Cisco Desk Phone 9841" data-max="10" selected' in refused.text and 'value="4"' in refused.text
    done = await client.post(url, data={"csrf_token": sales, "device": "PHONE:Cisco Desk Phone 9841",
                                        "quantity": "4", "poeConfirmed": "on", **SHIP_TO})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=ship")
    after = await client.get(done.headers["location"])
    assert "4 × Cisco Desk Phone 9841" in after.text and "Requested" in after.text
    assert "Storgata 1" in after.text and 'href="tel:+4791234567"' in after.text   # the shipment shows its delivery
    assert 'optgroup label="Phones"' not in after.text       # one shipment per device type
    assert "Skip devices" not in after.text


async def test_r_dev_01_skip_devices_with_htmx_returns_the_card(client, sessionmaker, team, sales):
    customer_id, trial_id = await a_trial(client, sessionmaker, team, ["MESSAGING", "DEVICES"])
    response = await client.post(f"/customers/{customer_id}/trials/{trial_id}/skip", data={"skip": "OWN_DEVICES"},
                                 headers={"HX-Request": "true", "X-CSRF-Token": sales})
    assert response.status_code == 200 and "<html" not in response.text and "<article" in response.text
    assert "trialChanged" in response.headers["hx-trigger"]


async def test_r_svc_03_location_and_numbers_with_what_is_missing(client, sessionmaker, team, sales):
    customer_id, _ = await a_trial(client, sessionmaker, team, ["CALLING"], calling={"pstn": "PARTNER_DIDS"})
    page = await client.get(f"/customers/{customer_id}")
    assert "3 + 2 × 0 = 3." in page.text and "0 assigned, 3 missing." in page.text
    bad = await client.post(f"/customers/{customer_id}/calling/location", data={
        "csrf_token": sales, **NO_ADDRESS, "timeZone": "Mars/Olympus"})
    assert bad.status_code == 422 and 'id="timeZone-error"' in bad.text and 'value="Karl Johans gate 1"' in bad.text
    added = await client.post(f"/customers/{customer_id}/calling/location", data={"csrf_token": sales, **NO_ADDRESS})
    assert added.status_code == 303
    page = await client.get(f"/customers/{customer_id}")
    assert "Hovedkontor" in page.text and "3 + 2 × 1 = 5." in page.text
    location_id = re.search(r'name="locationId" value="([^"]+)"', page.text).group(1)
    typed = "+4721234567\nnot a number"
    refused = await client.post(f"/customers/{customer_id}/calling/numbers", data={
        "csrf_token": sales, "locationId": location_id, "numbers": typed})
    assert refused.status_code == 422 and 'id="numbers-error"' in refused.text
    assert "not a number</textarea>" in refused.text
    assigned = await client.post(f"/customers/{customer_id}/calling/numbers", data={
        "csrf_token": sales, "locationId": location_id, "numbers": "+4721234567, +4721234568"})
    assert assigned.status_code == 303
    page = await client.get(f"/customers/{customer_id}")
    assert "+4721234568" in page.text and "2 assigned, 3 missing." in page.text


async def test_r_new_04_unable_to_provision_shows_the_reason_and_retry(client, sessionmaker, team, sales):
    token = team.tokens[Role.SALES_FULL_ADMIN]
    body = await gql(client, START, {"input": {
        "companyName": "Feilet AS", "adminEmail": "it@feilet.example", "businessVertical": "Education",
        "country": "NO", "supportedLocationConfirmed": True, "services": ["MESSAGING"], "licenseCount": 3,
        "durationDays": 30}}, token=token)
    trial_id = body["data"]["startTrial"]["trial"]["id"]
    await factories.unable_to_provision(sessionmaker, trial_id)
    customer_id = (await gql(client, QUERY, {"id": trial_id}, token=token))["data"]["trial"]["customer"]["id"]
    page = await client.get(f"/customers/{customer_id}")
    assert "The organization has no administrator to own it." in page.text and "Retry provisioning" in page.text
    retried = await client.post(f"/customers/{customer_id}/trials/{trial_id}/retry", data={"csrf_token": sales})
    assert retried.status_code == 303
    page = await client.get(retried.headers["location"])
    assert "Provisioning runs again." in page.text and "Retry provisioning" not in page.text


async def test_consent_page_says_who_asks(client, sessionmaker, settings):
    from tests.pages.test_customer_view import requested_trial

    team = await factories.partner_team(sessionmaker, "Fjordnett Partner AS")
    trial_id = await requested_trial(client, sessionmaker, team)
    url = await factories.consent_url(sessionmaker, settings, trial_id, "cio@org.example")
    page = await client.get((await client.get(url.replace(settings.base_url, ""))).headers["location"])
    assert "Fjordnett Partner AS asks to run a Webex trial for Fjellet AS" in page.text


async def test_site_url_check_says_taken(client, team, sales):
    await gql(client, START, {"input": {
        "companyName": "Opptatt AS", "adminEmail": "it@opptatt.example", "businessVertical": "Education",
        "country": "NO", "supportedLocationConfirmed": True, "services": ["MEETINGS"], "licenseCount": 3,
        "durationDays": 30, "meetings": {"edition": "ENTERPRISE", "siteUrl": "opptatt", "timeZone": "Europe/Oslo"}}},
        token=team.tokens[Role.SALES_FULL_ADMIN])
    taken = await client.get("/trials/new/site-url", params={"meetings.siteUrl": "OPPTATT"},
                             headers={"HX-Request": "true"})
    assert "opptatt.webex.com is taken" in taken.text and "<html" not in taken.text
    free = await client.get("/trials/new/site-url", params={"meetings.siteUrl": "ledig"}, headers={"HX-Request": "true"})
    assert "ledig.webex.com is free." in free.text


async def test_customer_count_is_pluralised(client, team, sales):
    from tests.pages.test_customers_page import start_trial

    await start_trial(client, team.tokens[Role.SALES_FULL_ADMIN], "Én AS", "it@en.example")
    await client.post("/locale", data={"locale": "nb", "next": "/customers", "csrf_token": sales})
    assert "1 kunde<" in (await client.get("/customers")).text
    await start_trial(client, team.tokens[Role.SALES_FULL_ADMIN], "To AS", "it@to.example")
    assert "2 kunder<" in (await client.get("/customers")).text
