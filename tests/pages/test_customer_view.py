"""Consent links, the consent page and `/my` for customer administrators (R-EX-04..06, R-BUY-01, R-CANCEL-01)."""
import re

from server.enums import Role
from tests import factories
from tests.helpers import gql

REQUEST = """mutation($input: ExistingCustomerTrialInput!) { requestTrialForExistingCustomer(input: $input) {
  trial { id } userErrors { code field message } } }"""


async def requested_trial(client, sessionmaker, team, email="cio@org.example"):
    await factories.existing_customer(sessionmaker, admin_email=email, name="Fjellet AS")
    body = await gql(client, REQUEST, {"input": {
        "companyName": "Fjellet AS", "adminEmail": email, "businessVertical": "Education", "country": "NO",
        "supportedLocationConfirmed": True, "services": ["MESSAGING"], "licenseCount": 10, "durationDays": 30}},
        token=team.tokens[Role.SALES_FULL_ADMIN])
    assert body["data"]["requestTrialForExistingCustomer"]["userErrors"] == [], body
    return body["data"]["requestTrialForExistingCustomer"]["trial"]["id"]


def csrf_of(html):
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def test_consent_link_signs_in_and_accepting_lands_on_my_trials(client, sessionmaker, settings, team):
    trial_id = await requested_trial(client, sessionmaker, team)
    url = await factories.consent_url(sessionmaker, settings, trial_id, "cio@org.example")
    opened = await client.get(url.replace(settings.base_url, ""))
    assert opened.status_code == 303 and opened.headers["location"] == f"/my/consent/{trial_id}"
    page = await client.get(opened.headers["location"])
    assert page.status_code == 200 and "Fjellet AS" in page.text and "Full administrator" in page.text
    accepted = await client.post(f"/my/consent/{trial_id}", data={
        "csrf_token": csrf_of(page.text), "go": "accept", "grantFullAdmin": "on"})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/my?done=accepted"
    mine = await client.get(accepted.headers["location"])
    assert "the trial request is accepted" in mine.text and "Fjellet AS" in mine.text


async def test_a_used_consent_link_gets_a_clear_page(client, sessionmaker, settings, team):
    trial_id = await requested_trial(client, sessionmaker, team)
    path = (await factories.consent_url(sessionmaker, settings, trial_id, "cio@org.example")).replace(
        settings.base_url, "")
    await client.get(path)
    again = await client.get(path)
    assert again.status_code == 400 and "used" in again.text


async def test_an_invalid_consent_link_gets_a_clear_page(client):
    response = await client.get("/consent/not-a-token")
    assert response.status_code == 400 and "not valid" in response.text


async def test_my_requires_a_customer_admin(client, team):
    assert (await client.get("/my")).headers["location"].startswith("/my/login")
    await factories.login(client, team.emails[Role.SALES_ADMIN], team.password)
    assert (await client.get("/my")).status_code == 403


async def test_declining_from_the_consent_page(client, sessionmaker, settings, team):
    trial_id = await requested_trial(client, sessionmaker, team)
    url = await factories.consent_url(sessionmaker, settings, trial_id, "cio@org.example")
    page = await client.get((await client.get(url.replace(settings.base_url, ""))).headers["location"])
    declined = await client.post(f"/my/consent/{trial_id}", data={"csrf_token": csrf_of(page.text), "go": "decline"})
    assert declined.headers["location"] == "/my?done=declined"
