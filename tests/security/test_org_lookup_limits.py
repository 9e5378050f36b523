"""R-EX-01: the organization look-up is rate-limited per user and audited on every path that makes
it — `existingOrganization`, `availableServices(adminEmail:)` and `requestTrialForExistingCustomer`
— and a refused request (NOT_AN_EXISTING_ORG rolls its transaction back) still counts and audits
its look-up. Before issue 21 the mutation was an unlimited, unaudited oracle (25 tries, no
RATE_LIMITED, no audit row)."""
from __future__ import annotations

from sqlalchemy import func, select

from server.db.models import AuditEvent
from server.domain.orgs.customers import LOOKUPS_PER_HOUR
from server.enums import Role
from tests import factories
from tests.helpers import gql

REQUEST = """mutation LookupRequest($input: ExistingCustomerTrialInput!) {
  requestTrialForExistingCustomer(input: $input) { trial { id } userErrors { code field } } }"""
CONFIRM = "query LookupConfirm($e: String!) { existingOrganization(adminEmail: $e) { name } }"
SERVICES = "query LookupServices($e: String!) { availableServices(adminEmail: $e) { type } }"


def request_input(email: str) -> dict:
    return {"input": {"companyName": "Probe", "adminEmail": email, "businessVertical": "Other", "country": "NO",
                      "supportedLocationConfirmed": True, "services": ["CALLING"], "licenseCount": 5,
                      "durationDays": 30}}


async def request_code(client, token: str, email: str) -> str | None:
    body = await gql(client, REQUEST, request_input(email), token=token)
    errors = body["data"]["requestTrialForExistingCustomer"]["userErrors"]
    return errors[0]["code"] if errors else None


async def lookups(sessionmaker) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "organization.lookup"))


async def test_r_ex_01_request_for_unknown_emails_is_limited_and_audited(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    token = team.tokens[Role.SALES_ADMIN]
    codes = [await request_code(client, token, f"probe{n}@unknown.example") for n in range(LOOKUPS_PER_HOUR + 5)]
    assert codes == ["NOT_AN_EXISTING_ORG"] * LOOKUPS_PER_HOUR + ["RATE_LIMITED"] * 5
    assert await lookups(sessionmaker) == LOOKUPS_PER_HOUR


async def test_r_ex_01_one_limit_for_every_path(client, sessionmaker):
    team = await factories.partner_team(sessionmaker)
    token = team.tokens[Role.SALES_FULL_ADMIN]
    await factories.existing_customer(sessionmaker, admin_email="known@org.example")
    per_path = LOOKUPS_PER_HOUR // 3
    for n in range(per_path):
        assert "errors" not in await gql(client, CONFIRM, {"e": f"c{n}@unknown.example"}, token=token)
        assert "errors" not in await gql(client, SERVICES, {"e": f"s{n}@unknown.example"}, token=token)
        assert await request_code(client, token, f"r{n}@unknown.example") == "NOT_AN_EXISTING_ORG"
    for n in range(LOOKUPS_PER_HOUR - 3 * per_path):
        assert "errors" not in await gql(client, CONFIRM, {"e": f"rest{n}@unknown.example"}, token=token)
    assert await request_code(client, token, "known@org.example") == "RATE_LIMITED"
    refused = await gql(client, CONFIRM, {"e": "known@org.example"}, token=token)
    assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    refused = await gql(client, SERVICES, {"e": "known@org.example"}, token=token)
    assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert await lookups(sessionmaker) == LOOKUPS_PER_HOUR
    other = team.tokens[Role.SALES_ADMIN]  # per user: another user still may
    assert (await gql(client, CONFIRM, {"e": "known@org.example"}, token=other))["data"]["existingOrganization"]


async def test_r_ex_01_the_same_email_again_costs_nothing(client, sessionmaker):
    """The wizard asks for one email three times (confirm, services, send): one look-up."""
    team = await factories.partner_team(sessionmaker)
    token = team.tokens[Role.SALES_ADMIN]
    await factories.existing_customer(sessionmaker, admin_email="known@org.example")
    for _ in range(LOOKUPS_PER_HOUR + 5):
        assert (await gql(client, CONFIRM, {"e": "known@org.example"}, token=token))["data"]["existingOrganization"]
    assert await request_code(client, token, "known@org.example") is None
    for n in range(LOOKUPS_PER_HOUR - 1):
        assert "errors" not in await gql(client, CONFIRM, {"e": f"o{n}@unknown.example"}, token=token)
    assert await request_code(client, token, "another@unknown.example") == "RATE_LIMITED"
