"""R-TIME-05 (issue 16 item 6): a released trial stays readable. After day 120 of a 90-day trial the
org is released for good (users moved, access and site gone), yet its partner still reads the
customer and the trial by ID, finds the customer in its list (status RELEASED, and with the
filter), reads its history, and is refused any change by the trial's state."""
from __future__ import annotations

from sqlalchemy import select

from server.db.models import CustomerOrg, PartnerAccessGrant, Trial
from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import login, partner_team
from tests.helpers import gql
from tests.timeline.conftest import new_customer_trial

CUSTOMER = """query($id: ID!) { node(id: $id) { ... on Customer { name subscriptionStatus partnerAccess
  managingPartner { name } trials { id state services { type expired } } } } }"""
TRIAL = "query($id: ID!) { trial(id: $id) { state customer { name } } }"
LIST = """query($s: SubscriptionStatus) { customers(first: 10, status: $s) { totalCount
  edges { node { id subscriptionStatus } } } }"""
HISTORY = "query($id: ID!) { auditEvents(customerId: $id) { actor action } }"
EXTEND = "mutation($t: ID!) { extendTrial(trialId: $t, days: 30) { trial { state } userErrors { code } } }"


async def test_r_time_05_a_released_trial_stays_readable_by_its_partner(client, sessionmaker, life):
    t = await new_customer_trial(sessionmaker)
    other = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    await life.until(121)
    async with sessionmaker() as db:                      # released for good, as R-TIME-05 says
        assert (await db.get(Trial, t.trial_id)).state == "RELEASED"
        assert await db.get(PartnerAccessGrant, (t.customer_id, t.partner_id)) is None
        assert (await db.get(CustomerOrg, t.customer_id)).managing_partner_id is None
        name = await db.scalar(select(CustomerOrg.name).where(CustomerOrg.id == t.customer_id))
    customer_id, trial_id = to_global_id("Customer", t.customer_id), to_global_id("Trial", t.trial_id)

    for role in (Role.PARTNER_FULL_ADMIN, Role.SALES_ADMIN, Role.READ_ONLY):
        token = t.team.tokens[role]
        seen = (await gql(client, CUSTOMER, {"id": customer_id}, token=token))["data"]["node"]
        assert seen == {"name": name, "subscriptionStatus": "RELEASED", "partnerAccess": None, "managingPartner": None,
                        "trials": [{"id": trial_id, "state": "RELEASED",
                                    "services": [{"type": "MESSAGING", "expired": False},
                                                 {"type": "MEETINGS", "expired": False}]}]}, role
        assert (await gql(client, TRIAL, {"id": trial_id}, token=token))["data"]["trial"] == {
            "state": "RELEASED", "customer": {"name": name}}
        for status in (None, "RELEASED"):
            listed = (await gql(client, LIST, {"s": status}, token=token))["data"]["customers"]
            assert listed["edges"] == [{"node": {"id": customer_id, "subscriptionStatus": "RELEASED"}}], (role, status)
        assert (await gql(client, LIST, {"s": "TRIAL_EXPIRED"}, token=token))["data"]["customers"]["totalCount"] == 0
        history = (await gql(client, HISTORY, {"id": customer_id}, token=token))["data"]["auditEvents"]
        assert {"actor": "system", "action": "trial.released"} in history
        assert {"actor": "system", "action": "trial.expired"} in history

    # Irreversible: a change is refused by the trial's state (not hidden as NOT_FOUND), and changes nothing.
    refused = await gql(client, EXTEND, {"t": trial_id}, token=t.team.tokens[Role.PARTNER_FULL_ADMIN])
    assert [e["code"] for e in refused["data"]["extendTrial"]["userErrors"]] == ["INVALID_STATE"]
    async with sessionmaker() as db:
        assert (await db.get(Trial, t.trial_id)).state == "RELEASED"
    # Tenant isolation holds: another partner still cannot see it (R-ORG-02).
    token = other.tokens[Role.PARTNER_FULL_ADMIN]
    assert (await gql(client, CUSTOMER, {"id": customer_id}, token=token))["data"]["node"] is None
    assert (await gql(client, LIST, {"s": "RELEASED"}, token=token))["data"]["customers"]["totalCount"] == 0


async def test_r_time_05_the_portal_lists_and_shows_a_released_customer(client, sessionmaker, life):
    t = await new_customer_trial(sessionmaker)
    await life.until(121)
    await login(client, t.team.emails[Role.SALES_ADMIN], t.team.password)
    listed = await client.get("/customers?status=RELEASED")
    assert listed.status_code == 200
    assert '<option value="RELEASED" selected>' in listed.text
    assert f'href="/customers/{to_global_id("Customer", t.customer_id)}"' in listed.text
    page = await client.get(f"/customers/{to_global_id('Customer', t.customer_id)}")
    assert page.status_code == 200
    assert "Released" in page.text and "released the organization" in page.text  # the history in words
    assert "/extend" not in page.text and "/cancel" not in page.text       # nothing left to act on
