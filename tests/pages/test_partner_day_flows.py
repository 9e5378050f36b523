"""Issue 18 in real Chromium: the home page, the CSV export and the bulk extend, in en and nb."""
from __future__ import annotations

import csv
from datetime import timedelta

import pytest

from server import clock
from server.enums import Role
from tests.lifecycle.conftest import Kit
from tests.pages.conftest import axe_violations, shot
from tests.pages.test_browser_flows import sign_in
from tests.partner_day.conftest import in_grace, set_trial

pytestmark = pytest.mark.browser


async def busy_partner(client, app, sessionmaker, team) -> Kit:
    """Three customers: one trial ending in 3 days, one in grace, one with 90 days left."""
    kit = Kit(client, app, sessionmaker, team)
    ending = await kit.paid_trial(await kit.paid_customer(name="Nordlys Bakeri AS"), role=Role.SALES_FULL_ADMIN)
    await set_trial(sessionmaker, ending, ends_at=clock.now() + timedelta(days=3))
    graced = await kit.paid_trial(await kit.paid_customer(name="Fjellet Hytteutleie"), role=Role.SALES_FULL_ADMIN)
    await in_grace(sessionmaker, graced, days_ago=4)
    await kit.paid_trial(await kit.paid_customer(name="=Formel Regnskap AS"), role=Role.SALES_FULL_ADMIN)
    return kit


@pytest.mark.parametrize("locale", ["en", "nb"])
async def test_home_page_shows_what_needs_attention(new_page, client, app, sessionmaker, team, locale):
    await busy_partner(client, app, sessionmaker, team)
    page = await new_page(locale="nb-NO" if locale == "nb" else "en-US")
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.click("nav a[href='/']")
    await page.wait_for_selector("#attention-trials_ending_soon li")
    heading = {"en": "Needs your attention", "nb": "Trenger din oppmerksomhet"}[locale]
    assert heading in await page.text_content("#attention-heading")
    assert "Nordlys Bakeri AS" in await page.text_content("#attention-trials_ending_soon")
    assert "Fjellet Hytteutleie" in await page.text_content("#attention-trials_in_grace")
    assert await page.locator("svg[aria-labelledby='week-chart-title week-chart-desc'] rect.bar.started").count() >= 1
    await page.click("details summary")
    assert await page.locator("#week-table tbody tr").count() == 12
    assert await axe_violations(page) == []
    await shot(page, f"home-{locale}")
    await page.click("#attention-trials_ending_soon a:has-text('Nordlys Bakeri AS')")
    await page.wait_for_selector("h1:has-text('Nordlys Bakeri AS')")


@pytest.mark.parametrize("locale", ["en", "nb"])
async def test_export_the_filtered_customer_list_as_csv(new_page, client, app, sessionmaker, team, locale):
    await busy_partner(client, app, sessionmaker, team)
    page = await new_page(locale="nb-NO" if locale == "nb" else "en-US", accept_downloads=True)
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.fill("#q", "AS")
    await page.wait_for_url("**q=AS**")
    await page.wait_for_function("document.querySelectorAll('#customer-rows tr').length === 2")
    assert await axe_violations(page) == []
    await shot(page, f"customers-export-{locale}")
    async with page.expect_download() as info:
        await page.click("#export-csv")
    download = await info.value
    assert download.suggested_filename.startswith("customers-") and download.suggested_filename.endswith(".csv")
    with open(await download.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0][0] == {"en": "Company name", "nb": "Firmanavn"}[locale]
    assert sorted(r[0] for r in rows[1:]) == ["'=Formel Regnskap AS", "Nordlys Bakeri AS"]  # the search applies
