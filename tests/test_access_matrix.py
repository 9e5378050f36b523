"""R-ROLE-02 permission matrix, table-driven over the real API: every trial mutation × every kind
of caller → allowed or refused exactly as the matrix says, and a refused call changes nothing.

"Allowed" means the permission check passed (the call may still fail a business rule, e.g.
INVALID_STATE for resending consent on a trial that is not pending). Another partner's trial
answers NOT_FOUND (R-ORG-02); a sales admin's view of a customer that is not their own is either.
"""
from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import func, select

from server.auth import sessions, signin
from server.db.models import ApiToken, AuditEvent, CustomerUser, OutboxEmail, Trial
from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import PARTNER_ROLES, existing_customer, partner_team, trials_team_token
from tests.helpers import gql

PAYLOAD = "trial { id state version } userErrors { code field message }"
MUTATIONS = {
    "startTrial": f"mutation($input: StartTrialInput!) {{ startTrial(input: $input) {{ {PAYLOAD} }} }}",
    "requestTrialForExistingCustomer": ("mutation($input: ExistingCustomerTrialInput!) { "
                                        f"requestTrialForExistingCustomer(input: $input) {{ {PAYLOAD} }} }}"),
    "addTrialToPaidCustomer": ("mutation($c: ID!) { addTrialToPaidCustomer(customerId: $c, services: [CALLING], "
                               f"licenseCount: 10, durationDays: 30) {{ {PAYLOAD} }} }}"),
    "updateTrial": f"mutation($t: ID!, $v: Int!) {{ updateTrial(trialId: $t, expectedVersion: $v, licenseCount: 150) {{ {PAYLOAD} }} }}",
    "extendTrial": f"mutation($t: ID!) {{ extendTrial(trialId: $t, days: 30) {{ {PAYLOAD} }} }}",
    "cancelTrial": f"mutation($t: ID!) {{ cancelTrial(trialId: $t) {{ {PAYLOAD} }} }}",
    "resendConsent": f"mutation($t: ID!) {{ resendConsent(trialId: $t) {{ {PAYLOAD} }} }}",
    "convertTrial": ("mutation($t: ID!) { convertTrial(trialId: $t, orderNumber: \"PO-1\", provisioningEmail: "
                     f"\"nobody@nowhere.example\", services: [MESSAGING, MEETINGS], confirmOmitted: true) {{ {PAYLOAD} }} }}"),
}
START_LIKE = {"startTrial", "requestTrialForExistingCustomer", "addTrialToPaidCustomer"}
MANAGE = set(MUTATIONS) - START_LIKE
CALLERS = ["anonymous", "PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN", "SALES_ADMIN",
           "SALES_ADMIN_NOT_OWN", "READ_ONLY", "OTHER_PARTNER", "CUSTOMER_ADMIN", "TRIALS_TEAM", "REVOKED_TOKEN"]

ALLOWED, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, DENIED = "ALLOWED", "FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED", "DENIED"


def expected(mutation: str, caller: str) -> str:
    """R-ROLE-02, R-CANCEL-01 (customer admins cancel), R-ROLE-05 (trials team: devices only)."""
    if caller in ("anonymous", "REVOKED_TOKEN"):
        return UNAUTHENTICATED
    if mutation in START_LIKE:
        return ALLOWED if caller in ("SALES_FULL_ADMIN", "SALES_ADMIN", "SALES_ADMIN_NOT_OWN") else FORBIDDEN
    if caller == "OTHER_PARTNER":
        return NOT_FOUND
    if caller in ("PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN", "SALES_ADMIN"):
        return ALLOWED
    if caller == "SALES_ADMIN_NOT_OWN":
        return DENIED
    if caller == "CUSTOMER_ADMIN":
        return ALLOWED if mutation == "cancelTrial" else FORBIDDEN
    return FORBIDDEN


def outcome(body: dict, name: str) -> str:
    if body.get("errors"):
        return body["errors"][0].get("extensions", {}).get("code", "ERROR")
    codes = [e["code"] for e in body["data"][name]["userErrors"]]
    for code in (FORBIDDEN, NOT_FOUND):
        if code in codes:
            return code
    return ALLOWED


_n = itertools.count(1)


async def _start(client, token: str, **extra) -> dict:
    n = next(_n)
    data = {"companyName": f"Matrix {n}", "adminEmail": f"admin{n}@matrix{n}.example", "businessVertical": "Retail",
            "country": "NO", "supportedLocationConfirmed": True, "services": ["MESSAGING", "MEETINGS"],
            "licenseCount": 100, "durationDays": 90, **extra}
    body = await gql(client, MUTATIONS["startTrial"], {"input": data}, token=token)
    assert body["data"]["startTrial"]["userErrors"] == [], body
    return {**body["data"]["startTrial"]["trial"], "adminEmail": data["adminEmail"]}


async def _request_existing(client, sessionmaker, token: str) -> dict:
    n = next(_n)
    email = f"boss{n}@existing{n}.example"
    await existing_customer(sessionmaker, admin_email=email)
    data = {"companyName": "Existing", "adminEmail": email, "businessVertical": "Retail", "country": "NO",
            "supportedLocationConfirmed": True, "services": ["CALLING"], "licenseCount": 10, "durationDays": 30}
    body = await gql(client, MUTATIONS["requestTrialForExistingCustomer"], {"input": data}, token=token)
    assert body["data"]["requestTrialForExistingCustomer"]["userErrors"] == [], body
    return {**body["data"]["requestTrialForExistingCustomer"]["trial"], "adminEmail": email}


async def _snapshot(sessionmaker) -> dict:
    async with sessionmaker() as db:
        trials = [tuple(r) for r in await db.execute(
            select(Trial.id, Trial.state, Trial.version, Trial.ends_at, Trial.license_count).order_by(Trial.id))]
        audits = await db.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action != "permission.denied"))
        mails = await db.scalar(select(func.count()).select_from(OutboxEmail))
    return {"trials": trials, "audits": audits, "mails": mails}


async def _customer_admin_client(app, sessionmaker, email: str) -> tuple[httpx.AsyncClient, str]:
    async with sessionmaker() as db, db.begin():
        person = await db.scalar(select(CustomerUser).where(CustomerUser.email == email))
        session_id = await signin.customer_admin_session(db, person.id)
        csrf = (await sessions.load(db, session_id)).csrf_token
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    client.cookies.set(sessions.COOKIE, sessions.cookie_value(app.state.settings.secret_key, session_id))
    return client, csrf


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_r_role_02_permission_matrix(client, app, sessionmaker, mutation, caller):
    team = await partner_team(sessionmaker, name="Partner A")
    starter = Role.SALES_FULL_ADMIN if caller == "SALES_ADMIN_NOT_OWN" else Role.SALES_ADMIN
    if mutation == "resendConsent":
        target = await _request_existing(client, sessionmaker, team.tokens[starter])
    elif mutation in MANAGE:
        target = await _start(client, team.tokens[starter])
    else:
        target = None

    variables: dict = {}
    if mutation == "startTrial":
        n = next(_n)
        variables = {"input": {"companyName": "New", "adminEmail": f"new{n}@new{n}.example", "businessVertical": "Retail",
                               "country": "NO", "supportedLocationConfirmed": True, "services": ["MESSAGING"],
                               "licenseCount": 10, "durationDays": 30}}
    elif mutation == "requestTrialForExistingCustomer":
        n = next(_n)
        await existing_customer(sessionmaker, admin_email=f"boss{n}@other{n}.example")
        variables = {"input": {"companyName": "Other", "adminEmail": f"boss{n}@other{n}.example",
                               "businessVertical": "Retail", "country": "NO", "supportedLocationConfirmed": True,
                               "services": ["CALLING"], "licenseCount": 10, "durationDays": 30}}
    elif mutation == "addTrialToPaidCustomer":
        paid = await existing_customer(sessionmaker, managed_by=team.partner_id)
        variables = {"c": to_global_id("Customer", paid)}
    else:
        variables = {"t": target["id"], "v": target["version"]}

    headers, token, caller_client = {}, None, client
    if caller in {r.value for r in PARTNER_ROLES} or caller == "SALES_ADMIN_NOT_OWN":
        token = team.tokens[Role.SALES_ADMIN if caller == "SALES_ADMIN_NOT_OWN" else Role(caller)]
    elif caller == "OTHER_PARTNER":
        other = await partner_team(sessionmaker, name="Partner B", roles=[Role.PARTNER_FULL_ADMIN])
        token = other.tokens[Role.PARTNER_FULL_ADMIN]
    elif caller == "TRIALS_TEAM":
        token = await trials_team_token(sessionmaker)
    elif caller == "REVOKED_TOKEN":
        token = team.tokens[Role.SALES_FULL_ADMIN]
        async with sessionmaker() as db, db.begin():
            row = await db.scalar(select(ApiToken).where(ApiToken.user_id == team.user_ids[Role.SALES_FULL_ADMIN]))
            row.revoked_at = row.created_at
    elif caller == "CUSTOMER_ADMIN":
        email = target["adminEmail"] if target else f"cadmin{next(_n)}@cust.example"
        if target is None:
            await existing_customer(sessionmaker, admin_email=email)
        caller_client, csrf = await _customer_admin_client(app, sessionmaker, email)
        headers = {"x-csrf-token": csrf}

    before = await _snapshot(sessionmaker)
    try:
        body = await gql(caller_client, MUTATIONS[mutation], variables, token=token, headers=headers)
    finally:
        if caller_client is not client:
            await caller_client.aclose()
    got = outcome(body, mutation)
    want = expected(mutation, caller)
    if want == DENIED:
        assert got in (FORBIDDEN, NOT_FOUND), body
    else:
        assert got == want, body
    if want != ALLOWED:
        assert await _snapshot(sessionmaker) == before
    if want == FORBIDDEN:
        async with sessionmaker() as db:
            assert await db.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "permission.denied")) >= 1
