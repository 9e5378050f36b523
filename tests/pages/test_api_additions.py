"""API additions the portal needs: Trial.partner (who asks, R-EX-04), siteUrlAvailable (R-SVC-02),
Customer.provisioningError and retryProvisioning (R-NEW-04)."""
from server.enums import Role
from tests import factories
from tests.helpers import gql
from tests.pages.test_customers_page import START, start_trial

CHECK = "query($n: String!) { siteUrlAvailable(name: $n) { siteUrl valid available message } }"
RETRY = "mutation($id: ID!) { retryProvisioning(trialId: $id) { trial { id customer { provisioningStatus " \
        "provisioningError } } userErrors { code field } } }"
CUSTOMER = "query($id: ID!) { trial(id: $id) { partner { name } customer { provisioningStatus provisioningError } } }"


async def test_r_svc_02_site_url_check_format_and_case_insensitive_uniqueness(client, team):
    token = team.tokens[Role.SALES_FULL_ADMIN]
    body = await gql(client, START, {"input": {
        "companyName": "Nettsted AS", "adminEmail": "it@nettsted.example", "businessVertical": "Education",
        "country": "NO", "supportedLocationConfirmed": True, "services": ["MEETINGS"], "licenseCount": 5,
        "durationDays": 30, "meetings": {"edition": "ENTERPRISE", "siteUrl": "nettsted", "timeZone": "Europe/Oslo"}}},
        token=token)
    assert body["data"]["startTrial"]["userErrors"] == []
    taken = (await gql(client, CHECK, {"n": "NettSted.webex.com"}, token=token))["data"]["siteUrlAvailable"]
    assert taken == {"siteUrl": "nettsted.webex.com", "valid": True, "available": False,
                     "message": "nettsted.webex.com is taken."}
    free = (await gql(client, CHECK, {"n": "https://ledig.webex.com/"}, token=token))["data"]["siteUrlAvailable"]
    assert (free["siteUrl"], free["valid"], free["available"]) == ("ledig.webex.com", True, True)
    for bad in ("ab", "-acme", "acme-", "a" * 41, "acme_co"):
        answer = (await gql(client, CHECK, {"n": bad}, token=token))["data"]["siteUrlAvailable"]
        assert (answer["valid"], answer["available"], answer["siteUrl"]) == (False, False, None), bad


async def test_site_url_check_needs_a_signed_in_caller(client):
    body = await gql(client, CHECK, {"n": "acme"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_r_ex_04_the_trial_names_its_partner(client, sessionmaker):
    team = await factories.partner_team(sessionmaker, "Nordic Webex Partner AS")
    trial_id = await start_trial(client, team.tokens[Role.SALES_FULL_ADMIN], "Hvem Spør AS", "it@hvem.example")
    body = await gql(client, CUSTOMER, {"id": trial_id}, token=team.tokens[Role.READ_ONLY])
    assert body["data"]["trial"]["partner"] == {"name": "Nordic Webex Partner AS"}


async def test_r_new_04_failure_reason_is_visible_and_retry_provisions_again(client, sessionmaker, team):
    trial_id = await start_trial(client, team.tokens[Role.SALES_FULL_ADMIN], "Feil AS", "it@feil.example")
    await factories.unable_to_provision(sessionmaker, trial_id)
    customer = (await gql(client, CUSTOMER, {"id": trial_id}, token=team.tokens[Role.PARTNER_ADMIN]))["data"]
    assert customer["trial"]["customer"] == {"provisioningStatus": "UNABLE_TO_PROVISION",
                                             "provisioningError": "The organization has no administrator to own it."}
    denied = await gql(client, RETRY, {"id": trial_id}, token=team.tokens[Role.READ_ONLY])
    assert denied["data"]["retryProvisioning"]["userErrors"][0]["code"] == "FORBIDDEN"
    body = await gql(client, RETRY, {"id": trial_id}, token=team.tokens[Role.PARTNER_ADMIN])
    payload = body["data"]["retryProvisioning"]
    assert payload["userErrors"] == []
    assert payload["trial"]["customer"] == {"provisioningStatus": "PROVISIONING", "provisioningError": None}
    again = await gql(client, RETRY, {"id": trial_id}, token=team.tokens[Role.PARTNER_ADMIN])
    assert again["data"]["retryProvisioning"]["userErrors"] == [{"code": "INVALID_STATE", "field": ["trialId"]}]


async def test_retry_of_another_partners_trial_is_not_found(client, sessionmaker, team):
    other = await factories.partner_team(sessionmaker)
    trial_id = await start_trial(client, other.tokens[Role.SALES_FULL_ADMIN], "Fremmed AS", "it@fremmed.example")
    body = await gql(client, RETRY, {"id": trial_id}, token=team.tokens[Role.PARTNER_ADMIN])
    assert body["data"]["retryProvisioning"]["userErrors"][0]["code"] == "NOT_FOUND"
