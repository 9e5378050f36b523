"""Lifecycle test kit: GraphQL documents, a `run` helper per actor, and arrangements."""
from __future__ import annotations

from typing import Any

import pytest_asyncio
from sqlalchemy import select

from server.db.models import CustomerUser
from server.domain.core.actor import Actor, ActorKind
from server.enums import CustomerRole, Role, ServiceType
from server.schema.node import to_global_id
from tests.factories import existing_customer, partner_team
from tests.helpers import gql

TRIAL_FIELDS = """id state licenseCount startsAt endsAt daysLeft graceEndsAt version kind durationDays
  services { type licenseCount expired meetings { edition siteUrl timeZone features } calling { pstn } }
  customer { id name region provisioningStatus subscriptionStatus partnerAccess managingPartner { name } }"""
PAYLOAD = f"trial {{ {TRIAL_FIELDS} }} userErrors {{ code field message }}"

START = f"mutation($input: StartTrialInput!) {{ startTrial(input: $input) {{ {PAYLOAD} }} }}"
EXISTING = (f"mutation($input: ExistingCustomerTrialInput!) {{ requestTrialForExistingCustomer(input: $input) "
            f"{{ {PAYLOAD} }} }}")
PAID = (f"mutation($c: ID!, $s: [ServiceType!]!, $n: Int!, $d: Int!) {{ addTrialToPaidCustomer(customerId: $c, "
        f"services: $s, licenseCount: $n, durationDays: $d) {{ {PAYLOAD} }} }}")
EXTEND = f"mutation($t: ID!, $d: Int!) {{ extendTrial(trialId: $t, days: $d) {{ {PAYLOAD} }} }}"
UPDATE = (f"mutation($t: ID!, $v: Int!, $n: Int, $add: [ServiceType!], $rm: [ServiceType!]) {{ updateTrial(trialId: $t, "
          f"expectedVersion: $v, licenseCount: $n, addServices: $add, removeServices: $rm) {{ {PAYLOAD} }} }}")
CANCEL = f"mutation($t: ID!) {{ cancelTrial(trialId: $t) {{ {PAYLOAD} }} }}"
CANCEL_REQUEST = f"mutation($t: ID!) {{ cancelTrialRequest(trialId: $t) {{ {PAYLOAD} }} }}"
RESEND = f"mutation($t: ID!) {{ resendConsent(trialId: $t) {{ {PAYLOAD} }} }}"
ACCEPT = f"mutation($t: ID!, $f: Boolean!) {{ acceptTrialConsent(trialId: $t, grantFullAdmin: $f) {{ {PAYLOAD} }} }}"
DECLINE = f"mutation($t: ID!) {{ declineTrialConsent(trialId: $t) {{ {PAYLOAD} }} }}"
INTEREST = f"mutation($t: ID!) {{ expressPurchaseInterest(trialId: $t) {{ {PAYLOAD} }} }}"
CONVERT = (f"mutation($t: ID!, $o: String!, $e: String!, $s: [ServiceType!]!, $c: Boolean) {{ convertTrial(trialId: $t, "
           f"orderNumber: $o, provisioningEmail: $e, services: $s, confirmOmitted: $c) {{ {PAYLOAD} }} }}")
CUSTOMERS = """query($first: Int, $after: String, $search: String, $status: SubscriptionStatus) {
  customers(first: $first, after: $after, search: $search, status: $status) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name subscriptionStatus trials { id state } } } } }"""


def new_customer_input(**overrides: Any) -> dict[str, Any]:
    data = {"companyName": "Acme AS", "adminEmail": "admin@acme-new.example", "businessVertical": "Retail",
            "country": "NO", "supportedLocationConfirmed": True, "services": ["MESSAGING", "MEETINGS"],
            "licenseCount": 200, "durationDays": 90}
    data.update(overrides)
    return data


def errors_of(body: dict, name: str) -> list[str]:
    assert "errors" not in body, body
    return [e["code"] for e in body["data"][name]["userErrors"]]


def trial_of(body: dict, name: str) -> dict:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["trial"]


async def run_as(app, actor: Actor, query: str, variables: dict | None = None) -> dict:
    """Run a document in-process as `actor` (as the portal does for a consent-link session)."""
    from server import graphql_http
    from server.schema.context import Context

    state = app.state
    context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor)
    _, body, _ = await graphql_http.run(state.graphql_schema, state.documents, context, query, variables, None)
    return body


async def customer_admin(sessionmaker, customer_id: int, email: str | None = None) -> Actor:
    async with sessionmaker() as db:
        stmt = select(CustomerUser).where(CustomerUser.customer_id == customer_id)
        if email:
            stmt = stmt.where(CustomerUser.email == email)
        user = (await db.scalars(stmt.order_by(CustomerUser.id))).first()
    return Actor(kind=ActorKind.CUSTOMER_ADMIN, email=user.email, customer_id=customer_id, customer_user_id=user.id,
                 customer_full_admin=user.role == CustomerRole.FULL_ADMIN.value)


class Kit:
    """One partner team plus shortcuts to the lifecycle mutations."""

    def __init__(self, client, app, sessionmaker, team):
        self.client, self.app, self.sessionmaker, self.team = client, app, sessionmaker, team

    def token(self, role: Role = Role.SALES_ADMIN) -> str:
        return self.team.tokens[role]

    async def call(self, query: str, variables: dict | None = None, role: Role = Role.SALES_ADMIN) -> dict:
        return await gql(self.client, query, variables, token=self.token(role))

    async def start(self, role: Role = Role.SALES_ADMIN, **overrides) -> dict:
        return trial_of(await self.call(START, {"input": new_customer_input(**overrides)}, role), "startTrial")

    async def paid_customer(self, purchased=(), **kwargs) -> int:
        return await existing_customer(self.sessionmaker, managed_by=self.team.partner_id,
                                       purchased=[ServiceType(s) for s in purchased], **kwargs)

    async def paid_trial(self, customer_id: int, services=("CALLING",), days: int = 90, role=Role.SALES_ADMIN) -> dict:
        body = await self.call(PAID, {"c": to_global_id("Customer", customer_id), "s": list(services), "n": 10,
                                      "d": days}, role)
        return trial_of(body, "addTrialToPaidCustomer")


@pytest_asyncio.fixture
async def kit(client, app, sessionmaker) -> Kit:
    return Kit(client, app, sessionmaker, await partner_team(sessionmaker))
