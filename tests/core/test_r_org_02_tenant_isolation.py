"""R-ORG-02 tenant isolation, asserted directly (not by comparing two read paths): one customer on
both partners' lists, each partner with its own trials of it (R-SVC-06 allows that: different
services). Beta must never see Alpha's trials, and the customer's derived status must come from
Beta's trials only — through `customers`, `customer`, `trial`, `node`, the nested `trials`, the
status filter, `attention`, `trialsByWeek`, the CSV export and the pages.

Every GraphQL test runs on both read paths: the read planner (PostgreSQL only; the test checks the
planner answered, so it is not a silent fallback) and the reference path (the planner switched off).
The arrangement is the same for all of them:

- "Shared Fjord AS", managed by Alpha, with Beta holding an admin grant (Beta sees the customer);
- Alpha: an ACTIVE Meetings trial ending in 3 days (TRIAL_EXPIRING_30, "ending soon" on the home
  page) and an EXPIRED Messaging trial in grace;
- Beta: an ACTIVE Calling trial ending in 100 days (TRIAL_ACTIVE for Beta).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest

from server import clock
from server.db.models import PartnerAccessGrant
from server.db.models.trials import Trial, TrialService
from server.domain.orgs import directory
from server.enums import Role
from server.schema.node import to_global_id
from tests import factories
from tests.helpers import gql

CUSTOMERS = """query IsolationCustomers($status: SubscriptionStatus) {
  customers(first: 50, status: $status) { totalCount edges { node { id name subscriptionStatus
    trials { id state endsAt services { type } } } } } }"""
CUSTOMER = """query IsolationCustomer($id: ID!) {
  customer(id: $id) { id subscriptionStatus trials { id state services { type } } } }"""
TRIAL = "query IsolationTrial($id: ID!) { trial(id: $id) { id state services { type } } }"
NODE = """query IsolationNode($id: ID!) { node(id: $id) { id
  ... on Customer { subscriptionStatus trials { id } } ... on Trial { state } } }"""
HOME = """query IsolationHome { attention(first: 50) { kind totalCount items { customerName trialId } }
  trialsByWeek(weeks: 12) { weeks { started expired } } }"""


@dataclass
class Shared:
    alpha: factories.Team
    beta: factories.Team
    customer: str
    alpha_soon: str
    alpha_grace: str
    beta_trial: str


async def _arrange(sessionmaker) -> Shared:
    alpha = await factories.partner_team(sessionmaker, "Alpha")
    beta = await factories.partner_team(sessionmaker, "Beta")
    now = clock.now()
    async with sessionmaker() as db, db.begin():
        shared = await directory.create_customer(db, "Shared Fjord AS", "NO", "it@shared-fjord.example",
                                                 managed_by=alpha.partner_id)
        db.add(PartnerAccessGrant(customer_id=shared.id, partner_id=beta.partner_id, access="FULL_ADMIN",
                                  granted_at=now))

        def trial(team, state, ends_at, service, grace_ends_at=None):
            row = Trial(customer_id=shared.id, partner_id=team.partner_id, started_by_user_id=team.user_ids[Role.SALES_ADMIN],
                        kind="EXISTING_CUSTOMER", state=state, license_count=10, duration_days=90,
                        starts_at=now - timedelta(days=1), ends_at=ends_at, grace_ends_at=grace_ends_at,
                        created_at=now - timedelta(days=1))
            db.add(row)
            return row, service

        made = [trial(alpha, "ACTIVE", now + timedelta(days=3), "MEETINGS"),
                trial(alpha, "EXPIRED", now - timedelta(hours=12), "MESSAGING", grace_ends_at=now + timedelta(days=29)),
                trial(beta, "ACTIVE", now + timedelta(days=100), "CALLING")]
        await db.flush()
        for row, service in made:
            db.add(TrialService(trial_id=row.id, customer_id=shared.id, service=service, license_count=10,
                                holds=row.state == "ACTIVE"))
        ids = [to_global_id("Trial", row.id) for row, _ in made]
        return Shared(alpha, beta, to_global_id("Customer", shared.id), *ids)


@pytest.fixture(params=["planner", "reference"])
def read_path(request, app):
    """The planner (PostgreSQL only) or the reference path; yields a check that the planner answered
    the named operations (nothing to check on the reference path)."""
    planner = app.state.planner
    if request.param == "planner":
        if planner is None:
            pytest.skip("the read planner runs on PostgreSQL only; the embedded default keeps the reference path")
        before = planner.planned.copy()

        def answered(*names: str) -> None:
            for name in names:
                assert planner.planned[name] > before.get(name, 0), f"{name} fell back to the reference path"
        yield answered
        return
    app.state.planner = None
    try:
        yield lambda *names: None
    finally:
        app.state.planner = planner


@pytest.fixture(params=[Role.PARTNER_FULL_ADMIN, Role.SALES_ADMIN])
def beta_role(request):
    """Beta's viewer: a partner-wide role, and a sales admin whose "own customers" include this one."""
    return request.param


async def test_r_org_02_list_shows_only_own_trials_and_status_from_them(client, sessionmaker, read_path, beta_role):
    """Kills: `trial_condition` true for partners (Alpha's trials in Beta's nested `trials`, and the
    status TRIAL_EXPIRING_30 derived from Alpha's 3-day trial); the status filter's `trial_filter`
    dropped from `status.sql_filter` (Beta's list filtered on Alpha's trials)."""
    shared = await _arrange(sessionmaker)
    token = shared.beta.tokens[beta_role]
    body = await gql(client, CUSTOMERS, token=token)
    assert "errors" not in body, body
    [edge] = body["data"]["customers"]["edges"]
    assert edge["node"]["id"] == shared.customer
    assert [t["id"] for t in edge["node"]["trials"]] == [shared.beta_trial]
    assert edge["node"]["trials"][0]["services"] == [{"type": "CALLING"}]
    assert edge["node"]["subscriptionStatus"] == "TRIAL_ACTIVE"
    for status, count in (("TRIAL_ACTIVE", 1), ("TRIAL_EXPIRING_30", 0), ("TRIAL_EXPIRED", 0)):
        filtered = await gql(client, CUSTOMERS, {"status": status}, token=token)
        assert filtered["data"]["customers"]["totalCount"] == count, (status, filtered)
    alpha = await gql(client, CUSTOMERS, token=shared.alpha.tokens[Role.PARTNER_FULL_ADMIN])
    [alpha_edge] = alpha["data"]["customers"]["edges"]  # the arrangement is what the test says it is
    assert {t["id"] for t in alpha_edge["node"]["trials"]} == {shared.alpha_soon, shared.alpha_grace}
    assert alpha_edge["node"]["subscriptionStatus"] == "TRIAL_EXPIRING_30"
    read_path("IsolationCustomers")


async def test_r_org_02_customer_trial_and_node_by_id(client, sessionmaker, read_path, beta_role):
    """Kills: `trial_condition` true for partners (Alpha's trial by `trial(id:)`, `node(id:)`, and in
    `customer(id:).trials`); `trial_reach` without its trial condition."""
    shared = await _arrange(sessionmaker)
    token = shared.beta.tokens[beta_role]
    customer = (await gql(client, CUSTOMER, {"id": shared.customer}, token=token))["data"]["customer"]
    assert customer == {"id": shared.customer, "subscriptionStatus": "TRIAL_ACTIVE",
                        "trials": [{"id": shared.beta_trial, "state": "ACTIVE", "services": [{"type": "CALLING"}]}]}
    for alpha_trial in (shared.alpha_soon, shared.alpha_grace):
        assert (await gql(client, TRIAL, {"id": alpha_trial}, token=token)) == {"data": {"trial": None}}
        assert (await gql(client, NODE, {"id": alpha_trial}, token=token)) == {"data": {"node": None}}
    own = await gql(client, TRIAL, {"id": shared.beta_trial}, token=token)
    assert own["data"]["trial"]["services"] == [{"type": "CALLING"}]
    node = (await gql(client, NODE, {"id": shared.customer}, token=token))["data"]["node"]
    assert node == {"id": shared.customer, "subscriptionStatus": "TRIAL_ACTIVE", "trials": [{"id": shared.beta_trial}]}
    read_path("IsolationCustomer", "IsolationTrial", "IsolationNode")


async def test_r_org_02_attention_and_weeks_count_own_trials_only(client, sessionmaker, read_path, beta_role):
    """Kills: `trial_condition` true for partners in `attention` (Alpha's trial ending in 3 days and
    its trial in grace on Beta's home page) and in `trialsByWeek` (Alpha's starts and expiry counted)."""
    shared = await _arrange(sessionmaker)
    beta = (await gql(client, HOME, token=shared.beta.tokens[beta_role]))["data"]
    counts = {a["kind"]: a["totalCount"] for a in beta["attention"]}
    assert counts["TRIALS_ENDING_SOON"] == 0 and counts["TRIALS_IN_GRACE"] == 0, beta["attention"]
    assert not [i for a in beta["attention"] for i in a["items"]], beta["attention"]
    assert sum(w["started"] for w in beta["trialsByWeek"]["weeks"]) == 1
    assert sum(w["expired"] for w in beta["trialsByWeek"]["weeks"]) == 0
    alpha = (await gql(client, HOME, token=shared.alpha.tokens[Role.PARTNER_FULL_ADMIN]))["data"]
    items = {a["kind"]: [i["trialId"] for i in a["items"]] for a in alpha["attention"]}
    assert items["TRIALS_ENDING_SOON"] == [shared.alpha_soon] and items["TRIALS_IN_GRACE"] == [shared.alpha_grace]
    assert sum(w["started"] for w in alpha["trialsByWeek"]["weeks"]) == 2
    read_path()  # `attention` and `trialsByWeek` are not declared to the planner: the reference answers them


async def test_r_org_02_csv_export_holds_only_own_trials(client, sessionmaker, read_path, beta_role):
    """Kills: `trial_condition` true for partners (Alpha's Meetings and Messaging trials, their end
    dates and Alpha's status in Beta's spreadsheet row)."""
    shared = await _arrange(sessionmaker)
    await factories.login(client, shared.beta.emails[beta_role], shared.beta.password)
    response = await client.get("/customers.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2, rows
    name, _, status, _, _, _, services, ends, days = rows[1][:9]     # the usage columns follow
    assert (name, status, services, days) == ("Shared Fjord AS", "Trial active", "Calling", "100")
    assert ends == (clock.now() + timedelta(days=100)).date().isoformat()
    read_path("CustomersExport")


async def test_r_org_02_pages_show_only_own_trials(client, sessionmaker, read_path, beta_role):
    """Kills: `trial_condition` true for partners on the pages Beta opens: the customers list
    (Alpha's trial ending in 3 days, its status), the customer's page (Alpha's trials and their
    actions) and the home page (Alpha's trials ending soon and in grace)."""
    shared = await _arrange(sessionmaker)
    await factories.login(client, shared.beta.emails[beta_role], shared.beta.password)
    listing = await client.get("/customers")
    assert listing.status_code == 200 and "Shared Fjord AS" in listing.text
    assert ">Trial active</span>" in listing.text and ">Trial expiring within 30 days</span>" not in listing.text
    assert "100 days left" in listing.text and "3 days left" not in listing.text and "Messaging" not in listing.text
    detail = await client.get(f"/customers/{shared.customer}")
    assert detail.status_code == 200
    assert shared.beta_trial in detail.text
    assert shared.alpha_soon not in detail.text and shared.alpha_grace not in detail.text
    home = await client.get("/")
    assert home.status_code == 200 and "Shared Fjord AS" not in home.text
    read_path("CustomersPage", "CustomerPage")
