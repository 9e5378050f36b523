"""R-EX-04 at acceptance (issue 16 item 5): accepting a consent request makes the partner a full or a
provisioning admin of the org in the acceptance's own transaction. The customer admin's answer says
so, and the partner reads it at once, before provisioning has run."""
from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from server.db.models import ConsentRequest, PartnerAccessGrant
from server.enums import Role
from tests.factories import consent_url, existing_customer, login
from tests.helpers import gql
from tests.trials.conftest import EXISTING, new_customer_input, trial_of
from tests.consent.test_consent import customer_pk

ACCEPT = """mutation($t: ID!, $f: Boolean!) { acceptTrialConsent(trialId: $t, grantFullAdmin: $f) {
  trial { state customer { provisioningStatus partnerAccess managingPartner { name } } }
  userErrors { code field message } } }"""
CUSTOMER = """query($id: ID!) { node(id: $id) { ... on Customer { provisioningStatus subscriptionStatus partnerAccess
  trials { state } } } }"""
LISTED = "{ customers(first: 5) { edges { node { id partnerAccess } } } }"
BOSS = "boss@consenting.example"


def meta_csrf(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


async def consent_session(app, sessionmaker, settings, trial_id: str) -> tuple[httpx.AsyncClient, str]:
    """The customer admin as they arrive: the consent email's link signs them in (a cookie session)."""
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    opened = await browser.get((await consent_url(sessionmaker, settings, trial_id, BOSS)).removeprefix("http://testserver"))
    assert opened.status_code == 303, opened.text
    page = await browser.get(opened.headers["location"])
    assert page.status_code == 200
    return browser, meta_csrf(page.text)


@pytest.mark.parametrize("full_admin, access", [(True, "FULL_ADMIN"), (False, "PROVISIONING_ADMIN")])
async def test_r_ex_04_acceptance_grants_partner_access_visible_in_its_answer_and_to_the_partner_at_once(
        app, settings, kit, full_admin, access):
    await existing_customer(kit.sessionmaker, admin_email=BOSS)
    trial = trial_of(await kit.call(EXISTING, {"input": new_customer_input(adminEmail=BOSS, services=["CALLING"])}),
                     "requestTrialForExistingCustomer")
    browser, csrf = await consent_session(app, kit.sessionmaker, settings, trial["id"])
    try:
        answer = await gql(browser, ACCEPT, {"t": trial["id"], "f": full_admin}, headers={"x-csrf-token": csrf})
        my_page = (await browser.get("/my")).text
    finally:
        await browser.aclose()
    accepted = trial_of(answer, "acceptTrialConsent")
    assert accepted["state"] == "PENDING_PROVISIONING"
    assert accepted["customer"]["partnerAccess"] == access
    assert accepted["customer"]["managingPartner"]["name"] and accepted["customer"]["provisioningStatus"] == "PROVISIONING"
    label = "Full administrator" if full_admin else "Provisioning administrator"
    assert label in my_page

    # The partner, before any provisioning: by ID, in the list, and on the customer's page.
    customer_id = trial["customer"]["id"]
    seen = (await kit.call(CUSTOMER, {"id": customer_id}))["data"]["node"]
    assert (seen["partnerAccess"], seen["provisioningStatus"], seen["trials"]) == (
        access, "PROVISIONING", [{"state": "PENDING_PROVISIONING"}])
    listed = (await kit.call(LISTED))["data"]["customers"]["edges"]
    assert [(e["node"]["id"], e["node"]["partnerAccess"]) for e in listed] == [(customer_id, access)]
    await login(kit.client, kit.team.emails[Role.SALES_ADMIN], kit.team.password)
    page = await kit.client.get(f"/customers/{customer_id}")
    assert page.status_code == 200 and label in page.text


async def test_r_ex_04_no_access_without_an_acceptance(app, settings, kit):
    """The grant comes only with the acceptance: a declined request and a refused acceptance leave none."""
    await existing_customer(kit.sessionmaker, admin_email=BOSS)
    trial = trial_of(await kit.call(EXISTING, {"input": new_customer_input(adminEmail=BOSS, services=["CALLING"])}),
                     "requestTrialForExistingCustomer")
    assert (await kit.call(CUSTOMER, {"id": trial["customer"]["id"]}))["data"]["node"]["partnerAccess"] is None
    refused = await kit.call(ACCEPT, {"t": trial["id"], "f": True})            # a partner cannot accept
    assert [e["code"] for e in refused["data"]["acceptTrialConsent"]["userErrors"]] == ["FORBIDDEN"]
    browser, csrf = await consent_session(app, kit.sessionmaker, settings, trial["id"])
    try:
        declined = await gql(browser, "mutation($t: ID!) { declineTrialConsent(trialId: $t) { userErrors { code } } }",
                             {"t": trial["id"]}, headers={"x-csrf-token": csrf})
        assert declined["data"]["declineTrialConsent"]["userErrors"] == []
        late = await gql(browser, ACCEPT, {"t": trial["id"], "f": True}, headers={"x-csrf-token": csrf})
    finally:
        await browser.aclose()
    assert [e["code"] for e in late["data"]["acceptTrialConsent"]["userErrors"]] == ["INVALID_STATE"]
    async with kit.sessionmaker() as db:
        assert await db.get(PartnerAccessGrant, (await customer_pk(kit, trial), kit.team.partner_id)) is None
        assert (await db.scalar(select(ConsentRequest.status))) == "DECLINED"
