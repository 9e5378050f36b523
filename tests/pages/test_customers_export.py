"""Issue 18: `/customers.csv`, the customers list with its current filters as a spreadsheet
(streamed, paged through the connection's cursor, scoped as the list, safe against CSV formulas)."""
from __future__ import annotations

import csv
import io

from server.domain.orgs import directory
from server.enums import Role
from server.pages.csv_export import safe_cell
from tests import factories
from tests.trials.conftest import Kit


def parse(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_csv_cells_that_look_like_formulas_are_neutralised():
    assert [safe_cell(v) for v in ("=1+1", "+47 22", "-2", "@SUM(A1)", "\tx", "\rx", "Acme", "", None, 5)] == \
        ["'=1+1", "'+47 22", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "Acme", "", "", "5"]


async def test_customers_csv_has_the_pages_columns_and_trial_end_dates(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    trial = await kit.paid_trial(await kit.paid_customer(name="=HYPERLINK(\"http://evil\")", admin_email="a@f.example"),
                                 services=("CALLING", "MESSAGING"), role=Role.SALES_FULL_ADMIN)
    await kit.paid_customer(name="Uten Prøve AS", admin_email="b@u.example")
    await factories.login(client, team.emails[Role.PARTNER_ADMIN], team.password)
    response = await client.get("/customers.csv")
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="customers.csv"'
    rows = parse(response.content)
    assert rows[0] == ["Company name", "Admin email address", "Subscription status", "Provisioning status", "Country",
                       "Data residency region", "Trial services", "Expiry date", "Days left", "Adoption",
                       "Active users (30 days)", "Activation"]
    assert rows[1] == ["'=HYPERLINK(\"http://evil\")", "a@f.example", "Trial active", "Provisioned", "NO",
                       "European Union", "Calling, Messaging", trial["endsAt"][:10], "90", "Not started", "0", "0 %"]
    assert rows[2][:3] == ["Uten Prøve AS", "b@u.example", "Active"] and rows[2][6:] == ["", "", "", "", "", ""]
    filtered = parse((await client.get("/customers.csv?status=TRIAL_ACTIVE")).content)
    assert [r[0] for r in filtered[1:]] == ["'=HYPERLINK(\"http://evil\")"]
    searched = parse((await client.get("/customers.csv?q=prøve")).content)
    assert [r[0] for r in searched[1:]] == ["Uten Prøve AS"]


async def test_customers_csv_in_norwegian(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    await kit.paid_trial(await kit.paid_customer(name="Fjord AS"), role=Role.SALES_FULL_ADMIN)
    await factories.login(client, team.emails[Role.READ_ONLY], team.password)
    client.cookies.set("td_locale", "nb")
    rows = parse((await client.get("/customers.csv")).content)
    assert rows[0][0] == "Firmanavn" and rows[1][0] == "Fjord AS" and rows[1][6] == "Ringer"


async def test_r_role_02_customers_csv_of_a_sales_admin_is_own_customers_only(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    await kit.paid_trial(await kit.paid_customer(name="Mine AS"), role=Role.SALES_ADMIN)
    await kit.paid_trial(await kit.paid_customer(name="Theirs AS"), role=Role.SALES_FULL_ADMIN)
    other = await factories.partner_team(sessionmaker)
    await factories.existing_customer(sessionmaker, name="Stranger AS", managed_by=other.partner_id)
    await factories.login(client, team.emails[Role.SALES_ADMIN], team.password)
    assert [r[0] for r in parse((await client.get("/customers.csv")).content)[1:]] == ["Mine AS"]


async def test_customers_csv_pages_through_every_customer(client, sessionmaker, team):
    async with sessionmaker() as db, db.begin():
        for n in range(230):
            await directory.create_customer(db, f"Kunde {n:03}", "NO", f"admin{n}@k{n}.example",
                                            managed_by=team.partner_id)
    await factories.login(client, team.emails[Role.PARTNER_FULL_ADMIN], team.password)
    rows = parse((await client.get("/customers.csv")).content)
    assert [r[0] for r in rows[1:]] == [f"Kunde {n:03}" for n in range(230)]


async def test_customers_csv_needs_a_partner_user(client):
    response = await client.get("/customers.csv")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_customers_page_links_the_export_with_its_filters(client, app, sessionmaker, team):
    kit = Kit(client, app, sessionmaker, team)
    await kit.paid_trial(await kit.paid_customer(name="Lenke AS"), role=Role.SALES_FULL_ADMIN)
    await factories.login(client, team.emails[Role.SALES_FULL_ADMIN], team.password)
    html = (await client.get("/customers?q=lenke&status=TRIAL_ACTIVE")).text
    assert 'href="/customers.csv?q=lenke&amp;status=TRIAL_ACTIVE" download hx-boost="false"' in html
