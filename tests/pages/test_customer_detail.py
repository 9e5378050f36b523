"""`/customers/{id}`: info, trials with their actions (303, htmx fragments, errors), timeline, tenant scope."""
import re

from server.enums import Role
from tests import factories
from tests.pages.test_customers_page import start_trial

QUERY = "query($id: ID!) { trial(id: $id) { customer { id } } }"


async def a_customer(client, team, services=("MESSAGING", "MEETINGS"), sessionmaker=None):
    from tests.helpers import gql

    trial_id = await start_trial(client, team.tokens[Role.SALES_FULL_ADMIN], "Havbris AS", "it@havbris.example",
                                 services)
    if sessionmaker is not None:
        await factories.provisioned(sessionmaker, trial_id)
    body = await gql(client, QUERY, {"id": trial_id}, token=team.tokens[Role.SALES_FULL_ADMIN])
    return body["data"]["trial"]["customer"]["id"], trial_id


async def test_detail_shows_info_trials_and_timeline(client, team, sales):
    customer_id, _ = await a_customer(client, team)
    response = await client.get(f"/customers/{customer_id}")
    assert response.status_code == 200
    assert "Havbris AS" in response.text and "it@havbris.example" in response.text
    assert "<svg" in response.text
    assert response.headers["vary"] == "HX-Request"


async def test_unknown_or_foreign_customers_are_not_found(client, sessionmaker, team, sales):
    other = await factories.partner_team(sessionmaker)
    customer_id, _ = await a_customer(client, other)
    response = await client.get(f"/customers/{customer_id}")
    assert response.status_code == 404


async def test_cancel_without_javascript_asks_then_redirects(client, team, sales):
    customer_id, trial_id = await a_customer(client, team)
    confirm = await client.get(f"/customers/{customer_id}/trials/{trial_id}/cancel")
    assert confirm.status_code == 200 and "Are you sure?" in confirm.text
    response = await client.post(f"/customers/{customer_id}/trials/{trial_id}/cancel", data={"csrf_token": sales})
    assert response.status_code == 303
    assert response.headers["location"] == f"/customers/{customer_id}?done=cancel"
    page = await client.get(response.headers["location"])
    assert "The trial was cancelled." in page.text


async def test_extend_shows_new_end_dates_and_htmx_gets_the_card_back(client, sessionmaker, team, sales):
    customer_id, trial_id = await a_customer(client, team, sessionmaker=sessionmaker)
    page = await client.get(f"/customers/{customer_id}")
    assert re.search(r"new end date <strong>\w{3} \d{1,2}, \d{4}</strong>", page.text)  # in the reader's locale
    response = await client.post(f"/customers/{customer_id}/trials/{trial_id}/extend", data={"days": "30"},
                                 headers={"HX-Request": "true", "X-CSRF-Token": sales})
    assert response.status_code == 200
    assert "<html" not in response.text and "<article" in response.text
    assert "trialChanged" in response.headers["hx-trigger"]


async def test_edit_errors_are_shown_next_to_the_field_with_the_typed_value(client, team, sales):
    customer_id, trial_id = await a_customer(client, team)
    page = await client.get(f"/customers/{customer_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    response = await client.post(f"/customers/{customer_id}/trials/{trial_id}/edit", data={
        "csrf_token": sales, "version": version, "licenseCount": "5000", "current": ["MESSAGING", "MEETINGS"],
        "services": ["MESSAGING", "MEETINGS"]})
    assert response.status_code == 422
    assert 'id="licenseCount-error"' in response.text
    assert 'value="5000"' in response.text


async def test_read_only_users_see_no_actions(client, team):
    customer_id, _ = await a_customer(client, team)
    await factories.login(client, team.emails[Role.READ_ONLY], team.password)
    page = await client.get(f"/customers/{customer_id}")
    assert page.status_code == 200 and "/extend" not in page.text


async def test_r_role_02_actions_shown_are_those_the_api_allows(client, sessionmaker, team):
    """The card's buttons come from `Trial.viewerCan`: a sales admin who also holds READ_ONLY sees a
    colleague's customer (READ_ONLY) but may not change it (SALES_ADMIN: own customers only), so its
    page and the list offer no action on it (the roles alone offered every button)."""
    from server.domain.orgs import directory

    customer_id, trial_id = await a_customer(client, team, sessionmaker=sessionmaker)  # started by a colleague
    async with sessionmaker() as db, db.begin():
        await directory.create_user(db, "both@partner.example", [Role.SALES_ADMIN, Role.READ_ONLY],
                                    partner_id=team.partner_id, password=team.password)
    await factories.login(client, "both@partner.example", team.password)
    page = await client.get(f"/customers/{customer_id}")
    assert page.status_code == 200 and "Havbris AS" in page.text
    for action in ("extend", "edit", "convert", "cancel"):
        assert f"/trials/{trial_id}/{action}" not in page.text, action
    listing = await client.get("/customers")
    assert "Havbris AS" in listing.text and f'value="{trial_id}"' not in listing.text
    await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    page = await client.get(f"/customers/{customer_id}")
    for action in ("extend", "edit", "convert", "cancel"):
        assert f"/trials/{trial_id}/{action}" in page.text, action
    assert f'value="{trial_id}"' in (await client.get("/customers")).text


async def test_setup_page_lists_next_steps(client, team, sales):
    customer_id, _ = await a_customer(client, team)
    page = await client.get(f"/customers/{customer_id}/setup")
    assert page.status_code == 200 and "First-time setup wizard" in page.text
