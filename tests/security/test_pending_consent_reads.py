"""R-EX-01 / R-EX-04: a partner whose only tie to an organization is its own pending consent request
sees the org's name and country, its request's trial and that trial's state — nothing more until an
admin accepts. Before issue 21 Beta read Alpha's customer's admin email, purchased services,
managing partner, street addresses and numbers through every read path.

Arrangement: "Fjord Pending AS", managed by Alpha (admin it@fjord-pending.example, Messaging bought,
a location in Storgata 1 with a number). Beta asks for a Calling trial with
the address of another admin of the org (ops@…): Beta reads that address — the one it typed — as
the customer's admin email, and nothing of the rest. Alpha reads everything as before. Every
GraphQL read runs on the planner (PostgreSQL; the test checks it answered) and the reference path.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from server import clock
from server.db.models import AuditEvent, Location, PhoneNumber
from server.enums import Role, ServiceType
from server.schema.node import decode_id, to_global_id
from tests import factories
from tests.core.test_r_org_02_tenant_isolation import read_path  # noqa: F401 - planner on and off
from tests.helpers import gql

ORG_ADMIN, ASKED = "it@fjord-pending.example", "ops@fjord-pending.example"
STREET, NUMBER = "Storgata 1", "+4721000001"

REQUEST = """mutation PendingRequest($input: ExistingCustomerTrialInput!) {
  requestTrialForExistingCustomer(input: $input) { userErrors { code } trial { id state customer { ...Private } } } }"""
PRIVATE = """fragment Private on Customer { id name country adminEmail provisioningError purchasedServices
  managingPartner { id name } partnerAccess locations { id name numbers { e164 } } trials { id state } }"""
CUSTOMERS = "query PendingCustomers($search: String) { customers(first: 50, search: $search) { totalCount " \
            "edges { node { ...Private } } } }" + PRIVATE
CUSTOMER = "query PendingCustomer($id: ID!) { customer(id: $id) { ...Private } }" + PRIVATE
NODE = "query PendingNode($id: ID!) { node(id: $id) { id ...Private ... on Location { name } } }" + PRIVATE
TRIAL = "query PendingTrial($id: ID!) { trial(id: $id) { id state customer { ...Private } } }" + PRIVATE
AUDIT = "query PendingAudit($id: ID!) { auditEvents(customerId: $id) { action } }"
AVAILABLE = "query PendingAvailable($id: ID) { availableServices(customerId: $id) { type available reason } }"
CALLING = "query PendingCalling($id: ID!) { callingRequirement(trialId: $id) { locations assigned } }"
ADD_LOCATION = """mutation PendingAddLocation($id: ID!) { addCallingLocation(customerId: $id, name: "HQ 2",
  address: {line1: "Kirkegata 2", city: "Oslo", postalCode: "0153", country: "NO"}, timeZone: "Europe/Oslo") {
  location { id } userErrors { code } } }"""


@dataclass
class Pending:
    alpha: factories.Team
    beta: factories.Team
    customer: str
    location: str
    trial: str
    answer: dict


def seen_by_beta(pending: Pending) -> dict:
    """What Beta may read of the customer: name, country, the address it typed, its own trial."""
    return {"id": pending.customer, "name": "Fjord Pending AS", "country": "NO", "adminEmail": ASKED,
            "provisioningError": None, "purchasedServices": [], "managingPartner": None, "partnerAccess": None,
            "locations": [], "trials": [{"id": pending.trial, "state": "PENDING_CONSENT"}]}


async def _arrange(client, sessionmaker) -> Pending:
    alpha = await factories.partner_team(sessionmaker, "Alpha")
    beta = await factories.partner_team(sessionmaker, "Beta")
    customer_id = await factories.existing_customer(sessionmaker, name="Fjord Pending AS", admin_email=ORG_ADMIN,
                                                    extra_admins=[ASKED], purchased=[ServiceType.MESSAGING],
                                                    managed_by=alpha.partner_id)
    # Beta manages (and holds a grant on) another org: a details condition reading any org's grant leaks.
    await factories.existing_customer(sessionmaker, name="Beta Own AS", managed_by=beta.partner_id)
    async with sessionmaker() as db, db.begin():
        location = Location(customer_id=customer_id, name="Fjord HQ", line1=STREET, city="Oslo", postal_code="0150",
                            country="NO", time_zone="Europe/Oslo", created_at=clock.now())
        db.add(location)
        await db.flush()
        db.add(PhoneNumber(e164=NUMBER, customer_id=customer_id, location_id=location.id, status="ASSIGNED",
                           created_at=clock.now()))
        db.add(AuditEvent(at=clock.now(), actor="system", action="customer.platform_note", subject_type="Customer",
                          subject_id=customer_id, customer_id=customer_id, partner_id=None))
    body = await gql(client, REQUEST + PRIVATE, {"input": {
        "companyName": "Fjord", "adminEmail": ASKED, "businessVertical": "Other", "country": "NO",
        "supportedLocationConfirmed": True, "services": ["CALLING"], "licenseCount": 10, "durationDays": 30}},
        token=beta.tokens[Role.SALES_FULL_ADMIN])
    answer = body["data"]["requestTrialForExistingCustomer"]
    assert answer["userErrors"] == [] and answer["trial"]["state"] == "PENDING_CONSENT", body
    return Pending(alpha, beta, to_global_id("Customer", customer_id), to_global_id("Location", location.id),
                   answer["trial"]["id"], answer)


@pytest.fixture(params=[Role.SALES_FULL_ADMIN, Role.PARTNER_FULL_ADMIN])
def beta_role(request):
    """Beta's viewer: the user who asked (sales, "own customer") and a partner-wide role."""
    return request.param


async def test_r_ex_01_the_request_answer_shows_name_and_country_only(client, sessionmaker):
    pending = await _arrange(client, sessionmaker)
    assert pending.answer["trial"]["customer"] == seen_by_beta(pending)


async def test_r_ex_01_pending_requester_reads_name_and_country_only(client, sessionmaker, read_path, beta_role):
    """Kills: `details_condition` true for partners; any of `customer_view`'s masks dropped; the
    locations / managing partner relations without `shown`; the purchased services without it."""
    pending = await _arrange(client, sessionmaker)
    token = pending.beta.tokens[beta_role]
    listed = await gql(client, CUSTOMERS, {"search": "Fjord"}, token=token)
    assert [e["node"] for e in listed["data"]["customers"]["edges"]] == [seen_by_beta(pending)], listed
    assert (await gql(client, CUSTOMER, {"id": pending.customer}, token=token))["data"]["customer"] == \
        seen_by_beta(pending)
    node = (await gql(client, NODE, {"id": pending.customer}, token=token))["data"]["node"]
    assert node == seen_by_beta(pending)
    trial = (await gql(client, TRIAL, {"id": pending.trial}, token=token))["data"]["trial"]
    assert trial["customer"] == seen_by_beta(pending)
    read_path("PendingCustomers", "PendingCustomer", "PendingNode", "PendingTrial")


async def test_r_ex_01_managing_partner_still_reads_everything(client, sessionmaker, read_path):
    pending = await _arrange(client, sessionmaker)
    customer = (await gql(client, CUSTOMER, {"id": pending.customer},
                          token=pending.alpha.tokens[Role.PARTNER_FULL_ADMIN]))["data"]["customer"]
    assert customer["adminEmail"] == ORG_ADMIN and customer["purchasedServices"] == ["MESSAGING"]
    assert customer["managingPartner"]["name"] == "Alpha" and customer["partnerAccess"] == "FULL_ADMIN"
    assert customer["locations"] == [{"id": pending.location, "name": "Fjord HQ", "numbers": [{"e164": NUMBER}]}]
    assert customer["trials"] == []
    search = await gql(client, CUSTOMERS, {"search": "it@fjord"}, token=pending.alpha.tokens[Role.PARTNER_FULL_ADMIN])
    assert search["data"]["customers"]["totalCount"] == 1
    read_path("PendingCustomer")


async def test_r_ex_01_pending_requester_cannot_reach_locations_or_search_the_admin_email(client, sessionmaker,
                                                                                         beta_role):
    """The Location node, the calling requirement's counts, the admin-email search (a letter-by-letter
    oracle), the platform's audit events and why a service is unavailable: nothing of the org."""
    pending = await _arrange(client, sessionmaker)
    token = pending.beta.tokens[beta_role]
    assert (await gql(client, NODE, {"id": pending.location}, token=token)) == {"data": {"node": None}}
    for term in ("it@fjord", "fjord-pending.example"):
        found = await gql(client, CUSTOMERS, {"search": term}, token=token)
        assert found["data"]["customers"]["totalCount"] == 0, (term, found)
    assert (await gql(client, CUSTOMERS, {"search": "Fjord Pending"}, token=token))["data"]["customers"][
        "totalCount"] == 1
    calling = await gql(client, CALLING, {"id": pending.trial}, token=token)
    assert calling["data"]["callingRequirement"] == {"locations": 0, "assigned": 0}
    actions = [e["action"] for e in (await gql(client, AUDIT, {"id": pending.customer}, token=token))["data"][
        "auditEvents"]]
    assert "customer.platform_note" not in actions and "consent.requested" in actions
    available = (await gql(client, AVAILABLE, {"id": pending.customer}, token=token))["data"]["availableServices"]
    assert {a["type"]: a["reason"] for a in available if not a["available"]}["MESSAGING"] == \
        "Not available for this organization."
    alpha_actions = [e["action"] for e in (await gql(client, AUDIT, {"id": pending.customer},
                                                     token=pending.alpha.tokens[Role.PARTNER_FULL_ADMIN]))[
        "data"]["auditEvents"]]
    assert "customer.platform_note" in alpha_actions


async def test_r_ex_01_pending_requester_cannot_change_the_org(client, sessionmaker):
    pending = await _arrange(client, sessionmaker)
    body = await gql(client, ADD_LOCATION, {"id": pending.customer}, token=pending.beta.tokens[Role.SALES_FULL_ADMIN])
    assert body["data"]["addCallingLocation"] == {"location": None, "userErrors": [{"code": "NOT_FOUND"}]}
    async with sessionmaker() as db:
        names = list(await db.scalars(select(Location.name).where(
            Location.customer_id == decode_id(pending.customer, "Customer"))))
    assert names == ["Fjord HQ"]


async def test_r_ex_01_pages_and_csv_show_name_and_country_only(client, sessionmaker, read_path, beta_role):
    pending = await _arrange(client, sessionmaker)
    await factories.login(client, pending.beta.emails[beta_role], pending.beta.password)
    pages = {"list": await client.get("/customers"), "detail": await client.get(f"/customers/{pending.customer}"),
             "csv": await client.get("/customers.csv")}
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert "Fjord Pending AS" in response.text, name
        for secret in (ORG_ADMIN, STREET, NUMBER, "Fjord HQ", "Alpha", "Messaging"):
            assert secret not in response.text, (name, secret)
    rows = [row for row in csv.reader(io.StringIO(pages["csv"].content.decode("utf-8-sig"))) if "Fjord" in row[0]]
    assert len(rows) == 1 and ASKED in rows[0], rows
    read_path("CustomersPage", "CustomerPage", "CustomersExport")
