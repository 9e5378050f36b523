"""Customers list, lookups, catalogs, node, tenant isolation (R-ORG-02, R-GEO-01, R-EX-01, R-SVC-06)."""
from __future__ import annotations

from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import existing_customer, partner_team
from tests.helpers import gql
from tests.trials.conftest import CUSTOMERS


async def test_catalogs_are_open_to_anonymous_callers(client):
    """The countries come by name, as the forms list them: kills their order mutated
    (`geography.countries` sorted by region, `r[1]` -> `r[2]`, a survivor of `make mutate`)."""
    body = await gql(client, "{ countries { code name region supported } businessVerticals deviceCatalog { model } "
                             "timeZones trialDurations }")
    assert "errors" not in body, body
    names = [c["name"] for c in body["data"]["countries"]]
    assert names == sorted(names) and len(names) > 200
    regions = {c["code"]: c["region"] for c in body["data"]["countries"]}
    assert regions["GB"] == "UK" and regions["DE"] == "EU" and regions["BR"] == "US"
    assert body["data"]["trialDurations"] == [30, 60, 90] and "Europe/Oslo" in body["data"]["timeZones"]


async def test_r_org_02_other_partners_customers_are_invisible(kit, client, sessionmaker):
    trial = await kit.start()
    other = await partner_team(sessionmaker)
    token = other.tokens[Role.PARTNER_FULL_ADMIN]
    listed = await gql(client, CUSTOMERS, token=token)
    assert listed["data"]["customers"]["totalCount"] == 0
    customer_id = trial["customer"]["id"]
    body = await gql(client, "query($id: ID!, $t: ID!) { customer(id: $id) { name } trial(id: $t) { id } "
                             "node(id: $id) { id } }", {"id": customer_id, "t": trial["id"]}, token=token)
    assert body["data"] == {"customer": None, "trial": None, "node": None}
    forged = to_global_id("Customer", 999999)
    missing = await gql(client, "query($id: ID!) { customer(id: $id) { name } }", {"id": forged}, token=token)
    assert missing["data"] == {"customer": None}
    extend = await gql(client, "mutation($t: ID!) { extendTrial(trialId: $t, days: 30) { userErrors { code } } }",
                       {"t": trial["id"]}, token=token)
    assert extend["data"]["extendTrial"]["userErrors"] == [{"code": "NOT_FOUND"}]


async def test_customers_search_paging_and_status(kit):
    for i in range(5):
        await kit.start(companyName=f"Company {i}", adminEmail=f"a{i}@company{i}.example")
    first = (await kit.call(CUSTOMERS, {"first": 2}))["data"]["customers"]
    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"]
    names = [e["node"]["name"] for e in first["edges"]]
    second = (await kit.call(CUSTOMERS, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["data"]["customers"]
    names += [e["node"]["name"] for e in second["edges"]]
    assert names == ["Company 0", "Company 1", "Company 2", "Company 3"]
    found = (await kit.call(CUSTOMERS, {"search": "a3@company3"}))["data"]["customers"]
    assert [e["node"]["name"] for e in found["edges"]] == ["Company 3"]
    pending = (await kit.call(CUSTOMERS, {"status": "PENDING_PROVISIONING"}))["data"]["customers"]
    assert pending["totalCount"] == 5
    assert (await kit.call(CUSTOMERS, {"status": "TRIAL_ACTIVE"}))["data"]["customers"]["totalCount"] == 0


async def test_first_over_100_is_refused(kit):
    body = await kit.call(CUSTOMERS, {"first": 101})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_first_0_to_100_are_the_page_sizes(kit):
    """Kills: the page size's bounds in `customers.page_statement` moved (0, a count without rows,
    refused; 100 refused; -1 accepted), and the refusal's message mutated (`customers.parameters`,
    "XX`first` must be ...XX", a survivor of `make mutate`): the caller is told the range."""
    await kit.start()
    zero = (await kit.call(CUSTOMERS, {"first": 0}))["data"]["customers"]
    assert (zero["totalCount"], zero["edges"], zero["pageInfo"]["hasNextPage"]) == (1, [], True)
    assert len((await kit.call(CUSTOMERS, {"first": 100}))["data"]["customers"]["edges"]) == 1
    [error] = (await kit.call(CUSTOMERS, {"first": -1}))["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("INVALID_INPUT", "`first` must be between 0 and 100.")


async def test_r_ex_01_lookup_shows_name_and_country_only(kit, sessionmaker):
    await existing_customer(sessionmaker, name="Hidden Corp", country="DE", admin_email="boss@hidden.example")
    query = "query($e: String!) { existingOrganization(adminEmail: $e) { name country } }"
    body = await kit.call(query, {"e": "boss@hidden.example"})
    assert body["data"]["existingOrganization"] == {"name": "Hidden Corp", "country": "DE"}
    assert (await kit.call(query, {"e": "nobody@nowhere.example"}))["data"]["existingOrganization"] is None


async def test_r_ex_01_lookup_only_for_roles_that_start_trials(kit):
    query = "query { existingOrganization(adminEmail: \"x@y.example\") { name } }"
    body = await kit.call(query, role=Role.PARTNER_FULL_ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_r_ex_01_lookup_is_rate_limited(kit):
    query = "query($e: String!) { existingOrganization(adminEmail: $e) { name } }"
    for n in range(20):
        assert "errors" not in await kit.call(query, {"e": f"x{n}@y.example"})
    body = await kit.call(query, {"e": "x20@y.example"})
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_r_svc_06_available_services_say_why(kit):
    customer = await kit.paid_customer(purchased=["MEETINGS"])
    await kit.paid_trial(customer, services=("CALLING",))
    body = await kit.call("query($c: ID) { availableServices(customerId: $c) { type available reason } }",
                          {"c": to_global_id("Customer", customer)})
    rows = {r["type"]: r for r in body["data"]["availableServices"]}
    assert rows["MESSAGING"]["available"] and not rows["MEETINGS"]["available"]
    assert "purchased" in rows["MEETINGS"]["reason"] and "trial" in rows["CALLING"]["reason"]


async def test_start_trial_is_shown_in_the_customers_list(kit):
    trial = await kit.start()
    listed = (await kit.call(CUSTOMERS))["data"]["customers"]
    assert listed["edges"][0]["node"]["trials"][0]["id"] == trial["id"]
    assert listed["edges"][0]["node"]["subscriptionStatus"] == "PENDING_PROVISIONING"


async def test_r_role_04_a_customer_admin_reads_its_own_org_in_full(kit):
    """R-EX-01's masking is for a partner without the org's consent, not for the org's own admin: kills
    `customer_view` masking every non-partner (`"details": literal(True)` -> `literal(False)`, a
    survivor of `make mutate`: the admin would read no purchased services)."""
    from tests.trials.conftest import customer_admin, run_as

    from server.enums import ServiceType

    customer = await existing_customer(kit.sessionmaker, name="Paid AS", admin_email="boss@paid.example",
                                       managed_by=kit.team.partner_id, purchased=[ServiceType.CALLING])
    gid = to_global_id("Customer", customer)
    partner_view = await gql(kit.client, "query($c: ID!) { customer(id: $c) { purchasedServices } }", {"c": gid},
                             token=kit.token(Role.PARTNER_FULL_ADMIN))
    bought = partner_view["data"]["customer"]["purchasedServices"]
    assert bought, partner_view
    admin = await customer_admin(kit.sessionmaker, customer)
    body = await run_as(kit.app, admin, "query($c: ID!) { customer(id: $c) { name purchasedServices } }", {"c": gid})
    assert body["data"]["customer"] == {"name": "Paid AS", "purchasedServices": bought}, body
