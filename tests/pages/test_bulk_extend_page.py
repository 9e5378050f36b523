"""Issue 18: bulk extend on the customers list (R-EXT-01 per trial, R-ROLE-02 per trial), as a
plain form without JavaScript and as an htmx swap."""
from __future__ import annotations

from server.enums import Role
from tests import factories
from tests.trials.conftest import Kit
from tests.pages.conftest import csrf_of


async def test_r_ext_01_bulk_extend_form_extends_each_ticked_trial(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    one = await kit.paid_trial(await kit.paid_customer(name="Alfa AS"), days=30, role=Role.SALES_FULL_ADMIN)
    two = await kit.paid_trial(await kit.paid_customer(name="Beta AS"), days=60, role=Role.SALES_FULL_ADMIN)
    await factories.login(client, team.emails[Role.PARTNER_ADMIN], team.password)
    page = await client.get("/customers?q=AS")
    assert f'name="trial" value="{one["id"]}"' in page.text and 'action="/customers/extend"' in page.text
    response = await client.post("/customers/extend", data={"trial": [one["id"], two["id"]], "days": "90", "q": "AS",
                                                             "csrf_token": csrf_of(page.text)})
    assert response.status_code == 200
    html = response.text
    assert html.count('class="done"') == 2 and "120 days left" in html and "150 days left" in html
    assert 'value="AS"' in html  # the list again, with its filters


async def test_r_role_02_bulk_extend_refuses_trials_out_of_reach_one_line_each(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    mine = await kit.paid_trial(await kit.paid_customer(name="Min Kunde AS"), role=Role.SALES_ADMIN)
    theirs = await kit.paid_trial(await kit.paid_customer(name="Deres Kunde AS"), role=Role.SALES_FULL_ADMIN)
    token = await factories.login(client, team.emails[Role.SALES_ADMIN], team.password)
    response = await client.post("/customers/extend", data={"trial": [mine["id"], theirs["id"]], "days": "30"},
                                 headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 200 and "trialsExtended" in response.headers["HX-Trigger"]
    html = response.text
    assert html.count('class="done"') == 1 and html.count('class="refused"') == 1
    assert "Min Kunde AS" in html and "A trial you cannot see: No such trial." in html
    assert "<html" not in html  # a fragment for #results


async def test_bulk_extend_without_a_ticked_trial_says_so_in_norwegian(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    await kit.paid_trial(await kit.paid_customer(name="Gamma AS"), role=Role.SALES_FULL_ADMIN)
    token = await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    client.cookies.set("td_locale", "nb")
    response = await client.post("/customers/extend", data={"days": "30", "csrf_token": token})
    assert response.status_code == 422 and "Kryss av minst én prøveversjon som skal forlenges." in response.text
    bad = await client.post("/customers/extend", data={"days": "45", "trial": "x", "csrf_token": token})
    assert bad.status_code == 422 and "Velg 30, 60 eller 90 dager." in bad.text


async def test_read_only_users_get_no_bulk_extend_form(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    await kit.paid_trial(await kit.paid_customer(name="Delta AS"), role=Role.SALES_FULL_ADMIN)
    await factories.login(client, team.emails[Role.READ_ONLY], team.password)
    assert 'action="/customers/extend"' not in (await client.get("/customers")).text
