"""Issue 18 in real Chromium: the home page, the CSV export and the bulk extend, in en and nb."""
from __future__ import annotations

import csv
from datetime import timedelta

import pytest

from server import clock
from server.enums import Role
from tests.trials.conftest import Kit
from tests.pages.conftest import axe_violations, htmx_ready, shot
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
    await htmx_ready(page, "form.toolbar[hx-get]")
    await page.fill("#q", "AS")
    await page.wait_for_url("**q=AS**")
    await page.wait_for_function("document.querySelectorAll('#customer-rows tr').length === 2")
    assert await axe_violations(page) == []
    await shot(page, f"customers-export-{locale}")
    async with page.expect_download() as info:
        await page.click("#export-csv")
    download = await info.value
    assert download.suggested_filename == "customers.csv"
    with open(await download.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0][0] == {"en": "Company name", "nb": "Firmanavn"}[locale]
    assert sorted(r[0] for r in rows[1:]) == ["'=Formel Regnskap AS", "Nordlys Bakeri AS"]  # the search applies


@pytest.mark.parametrize("locale,javascript", [("en", True), ("nb", True), ("nb", False)])
async def test_bulk_extend_ticked_trials_on_the_customer_list(new_page, client, app, sessionmaker, team, locale,
                                                              javascript):
    """With htmx only the results are swapped; without JavaScript the form posts and the page comes back (axe-core
    needs JavaScript, so it checks the same pages in the htmx runs)."""
    await busy_partner(client, app, sessionmaker, team)
    page = await new_page(locale="nb-NO" if locale == "nb" else "en-US", java_script_enabled=javascript)
    await sign_in(page, team.emails[Role.PARTNER_ADMIN], team.password)
    for name in ("Nordlys Bakeri AS", "Fjellet Hytteutleie"):
        await page.check(f"#customer-rows tr:has-text('{name}') input[name=trial]")
    await page.check("#bulk-extend input[name=days][value='60']")
    suffix = locale if javascript else f"{locale}-nojs"
    if javascript:
        assert await axe_violations(page) == []
    await shot(page, f"bulk-extend-ticked-{suffix}")
    await page.click("#bulk-extend button[type=submit]")
    await page.wait_for_selector("#bulk-lines li")
    lines = await page.locator("#bulk-lines li.done").all_text_contents()
    assert len(lines) == 2
    left = {"en": ("63 days left", "56 days left"), "nb": ("63 dager igjen", "56 dager igjen")}[locale]
    text = " ".join(lines)
    assert left[0] in text and left[1] in text  # 3 + 60 days; in grace: 4 days past its end + 60 = 56
    if javascript:
        assert await axe_violations(page) == []
    await shot(page, f"bulk-extend-done-{suffix}")
