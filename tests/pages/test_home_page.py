"""Issue 18: the partner's home page `/` (what needs attention, trials by week), en and nb."""
from __future__ import annotations

from datetime import timedelta

from server import clock
from server.enums import Role
from tests import factories
from tests.trials.conftest import Kit
from tests.pages.conftest import csrf_of
from tests.partner_day.conftest import in_grace, set_trial


async def test_home_page_lists_what_needs_attention_with_links_and_counts(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    customer = await kit.paid_customer(name="Snart Slutt AS")
    trial = await kit.paid_trial(customer, role=Role.SALES_FULL_ADMIN)
    await set_trial(sessionmaker, trial, ends_at=clock.now() + timedelta(days=2, hours=1))
    graced = await kit.paid_trial(await kit.paid_customer(name="Respitt AS"), role=Role.SALES_FULL_ADMIN)
    await in_grace(sessionmaker, graced, days_ago=1)
    await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    page = await client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/" aria-current="page">Home</a>' in html
    assert f'<a href="/customers/{trial["customer"]["id"]}">Snart Slutt AS</a>' in html
    assert "3 days left" in html and "29 days left to convert or extend" in html
    assert "No consent request is about to lapse." in html  # an empty category says what to do
    assert '<svg viewBox="0 0 720 234" role="img" aria-labelledby="week-chart-title week-chart-desc">' in html
    assert '<table class="striped" id="week-table">' in html and html.count('<th scope="row">') == 12
    assert html.count("<li><span class=\"swatch ") == 5                     # the chart's key, in HTML


async def test_home_page_in_norwegian_and_its_empty_state(client, team):
    await factories.login(client, team.emails[Role.READ_ONLY], team.password)
    client.cookies.set("td_locale", "nb")
    html = (await client.get("/")).text
    assert '<html lang="nb">' in html and "Trenger din oppmerksomhet" in html
    assert "Ingenting trenger deg i dag." in html and "Prøveversjoner per uke" in html


async def test_sign_in_still_lands_on_the_customers_list(client, team):
    """DESIGN's contract: `/login` success → 303 to /customers; Home is one click away in the nav."""
    anonymous = csrf_of((await client.get("/login")).text)
    response = await client.post("/login", data={"email": team.emails[Role.SALES_ADMIN], "password": team.password,
                                                  "csrf_token": anonymous})
    assert response.status_code == 303 and response.headers["location"] == "/customers"
    assert '<a href="/" >Home</a>' in (await client.get("/customers")).text
