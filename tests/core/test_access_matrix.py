"""R-ROLE-02 permission matrix, table-driven over the real API: every trial mutation × every kind
of caller → allowed or refused exactly as the matrix says, and a refused call changes nothing.

"Allowed" means the permission check passed (the call may still fail a business rule, e.g.
INVALID_STATE for resending consent on a trial that is not pending). Every cell asserts one exact
code. Refused with NOT_FOUND or FORBIDDEN is decided by what the caller may *see* (R-ORG-02: out of
reach answers as if it did not exist, so a refusal never confirms a trial exists to someone who
cannot read it):
- another partner's trial, and a sales admin's trial of a customer that is not their own (a sales
  admin views own customers only): NOT_FOUND;
- a trial the caller sees but may not change (read-only; a customer admin on anything but cancel;
  a sales admin who also holds READ_ONLY, so sees every customer, on a customer not their own):
  FORBIDDEN, and the denial is audited.

Multi-role callers (R-ROLE-01: a user may hold several roles) hold the union of what each role
allows, and no more: SALES_ADMIN + READ_ONLY sees all customers but still changes only its own.
"""
from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import func, select

from server.auth import sessions, signin
from server.auth.tokens import hash_token, new_token
from server.db.models import ApiToken, AuditEvent, CustomerUser, OutboxEmail, Trial
from server.domain.orgs import directory
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
#: Users holding several roles (R-ROLE-01), by caller name; "_NOT_OWN": the trial was started by someone else.
MULTI_ROLE = {
    "SALES_ADMIN+READ_ONLY": [Role.SALES_ADMIN, Role.READ_ONLY],
    "SALES_ADMIN+READ_ONLY_NOT_OWN": [Role.SALES_ADMIN, Role.READ_ONLY],
    "PARTNER_ADMIN+SALES_ADMIN_NOT_OWN": [Role.PARTNER_ADMIN, Role.SALES_ADMIN],
    "READ_ONLY+PARTNER_ADMIN": [Role.READ_ONLY, Role.PARTNER_ADMIN],
}
CALLERS = ["anonymous", "PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN", "SALES_ADMIN",
           "SALES_ADMIN_NOT_OWN", "READ_ONLY", "OTHER_PARTNER", "CUSTOMER_ADMIN", "TRIALS_TEAM", "REVOKED_TOKEN",
           *MULTI_ROLE]

ALLOWED, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED = "ALLOWED", "FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED"


def expected(mutation: str, caller: str) -> str:
    """R-ROLE-02, R-CANCEL-01 (customer admins cancel), R-ROLE-05 (trials team: devices only)."""
    if caller in ("anonymous", "REVOKED_TOKEN"):
        return UNAUTHENTICATED
    if mutation in START_LIKE:
        starts = caller in ("SALES_FULL_ADMIN", "SALES_ADMIN", "SALES_ADMIN_NOT_OWN") \
            or Role.SALES_ADMIN in MULTI_ROLE.get(caller, [])
        return ALLOWED if starts else FORBIDDEN
    if caller in ("OTHER_PARTNER", "SALES_ADMIN_NOT_OWN"):
        return NOT_FOUND  # not theirs to see: answered as if it did not exist (R-ORG-02)
    if caller in ("PARTNER_FULL_ADMIN", "PARTNER_ADMIN", "SALES_FULL_ADMIN", "SALES_ADMIN", "SALES_ADMIN+READ_ONLY",
                  "PARTNER_ADMIN+SALES_ADMIN_NOT_OWN", "READ_ONLY+PARTNER_ADMIN"):
        return ALLOWED
    if caller == "SALES_ADMIN+READ_ONLY_NOT_OWN":
        return FORBIDDEN  # READ_ONLY shows every customer; SALES_ADMIN changes only its own
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


async def _multi_role_token(sessionmaker, team, roles: list[Role]) -> str:
    """A user of the team holding every role in `roles`, and an API token made with all of them."""
    n = next(_n)
    async with sessionmaker() as db, db.begin():
        user = await directory.create_user(db, f"multi{n}@partner-a.example", roles, partner_id=team.partner_id,
                                           password=team.password)
        token = new_token()
        await directory.create_api_token(db, user, hash_token(token), roles, "multi-role")
    return token


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_r_role_02_permission_matrix(client, app, sessionmaker, mutation, caller):
    """Kills: `permissions.scope` asking the "own customers" roles before the "all customers" ones (a
    PARTNER_ADMIN who is also SALES_ADMIN limited to own customers); `visibility.get_trial` skipping
    the own-customer check when the caller sees the customer (SALES_ADMIN + READ_ONLY changing another
    user's customer); FORBIDDEN and NOT_FOUND swapped for any refused cell."""
    team = await partner_team(sessionmaker, name="Partner A")
    multi = await _multi_role_token(sessionmaker, team, MULTI_ROLE[caller]) if caller in MULTI_ROLE else None
    starter_token = team.tokens[Role.SALES_ADMIN]
    if caller.endswith("_NOT_OWN"):
        starter_token = team.tokens[Role.SALES_FULL_ADMIN]
    elif caller == "SALES_ADMIN+READ_ONLY":
        starter_token = multi
    if mutation == "resendConsent":
        target = await _request_existing(client, sessionmaker, starter_token)
    elif mutation in MANAGE:
        target = await _start(client, starter_token)
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
    if caller in MULTI_ROLE:
        token = multi
    elif caller in {r.value for r in PARTNER_ROLES} or caller == "SALES_ADMIN_NOT_OWN":
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
    assert got == want, body
    if want != ALLOWED:
        assert await _snapshot(sessionmaker) == before
    if want == FORBIDDEN:
        async with sessionmaker() as db:
            assert await db.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "permission.denied")) >= 1
