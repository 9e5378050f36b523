"""`/customers`: full page, htmx fragment, search, status filter, empty states, sign-in guard."""
from server.enums import Role
from tests.helpers import gql

START = """mutation($input: StartTrialInput!) { startTrial(input: $input) { trial { id } userErrors { code field message } } }"""


async def start_trial(client, token, name, email, services=("MESSAGING",)):
    body = await gql(client, START, {"input": {
        "companyName": name, "adminEmail": email, "businessVertical": "Education", "country": "NO",
        "supportedLocationConfirmed": True, "services": list(services), "licenseCount": 10, "durationDays": 30}},
        token=token)
    assert body["data"]["startTrial"]["userErrors"] == [], body
    return body["data"]["startTrial"]["trial"]["id"]


async def test_signed_out_visitors_are_sent_to_login(client):
    response = await client.get("/customers")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_empty_list_tells_what_to_do_next(client, sales):
    response = await client.get("/customers")
    assert response.status_code == 200
    assert "You have no customers yet." in response.text
    assert 'href="/trials/new"' in response.text
    assert response.headers["vary"] == "HX-Request"
    assert '<meta name="csrf-token" content="' + sales in response.text


async def test_list_shows_status_services_and_days_left(client, team, sales):
    await start_trial(client, team.tokens[Role.SALES_FULL_ADMIN], "Fjord Fisk AS", "admin@fjordfisk.example",
                      ("MESSAGING", "MEETINGS"))
    response = await client.get("/customers")
    assert "Fjord Fisk AS" in response.text
    assert "<html" in response.text
    assert "Messaging" in response.text and "Meetings" in response.text


async def test_htmx_search_answers_the_results_fragment(client, team, sales):
    token = team.tokens[Role.SALES_FULL_ADMIN]
    await start_trial(client, token, "Alpha Bakeri", "a@alpha.example")
    await start_trial(client, token, "Beta Bygg", "b@beta.example")
    response = await client.get("/customers?q=Alpha", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Alpha Bakeri" in response.text and "Beta Bygg" not in response.text
    assert response.headers["vary"] == "HX-Request"


async def test_boosted_navigation_gets_the_full_page(client, sales):
    response = await client.get("/customers", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in response.text


async def test_no_match_offers_to_clear_filters(client, sales):
    response = await client.get("/customers?q=nothing-like-this&status=TRIAL_EXPIRED")
    assert "No customer matches." in response.text
    assert 'value="nothing-like-this"' in response.text
    assert '<option value="TRIAL_EXPIRED" selected>' in response.text


async def test_language_switch_sets_cookie_and_translates(client, sales):
    response = await client.post("/locale", data={"locale": "nb", "next": "/customers", "csrf_token": sales})
    assert response.status_code == 303 and response.headers["location"] == "/customers"
    page = await client.get("/customers")
    assert "Kunder" in page.text and '<html lang="nb">' in page.text


async def test_language_switch_refuses_other_sites(client, sales):
    response = await client.post("/locale", data={"locale": "nb", "next": "//evil.example", "csrf_token": sales})
    assert response.headers["location"] == "/"


async def test_a_stale_or_edited_cursor_shows_the_first_page(client, team, sales):
    await start_trial(client, team.tokens[Role.SALES_FULL_ADMIN], "Markør AS", "it@markor.example")
    response = await client.get("/customers?after=bm90LWEtY3Vyc29y")
    assert response.status_code == 200 and "Markør AS" in response.text
