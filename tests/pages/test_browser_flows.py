"""Playwright flows in real Chromium, as a partner would click and type (one test per flow)."""
import pytest

from server.enums import Role
from tests.pages.conftest import axe_violations, shot

pytestmark = pytest.mark.browser


async def sign_in(page, email, password):
    await page.goto("/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url("**/customers")


async def test_start_a_trial_for_a_new_customer(browser_page, team):
    page = browser_page
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    assert await axe_violations(page) == []
    await shot(page, "customers-empty")
    await page.click("text=Start new trial")
    await page.fill("#companyName", "Polarlys Media AS")
    await page.fill("#adminEmail", "it@polarlys.example")
    await page.select_option("#businessVertical", index=1)
    await page.select_option("#country", "NO")
    assert await page.text_content("#region") == "European Union"  # R-GEO-01 at once
    await page.check("input[name=supportedLocationConfirmed]")
    assert await axe_violations(page) == []
    await shot(page, "wizard-customer")
    await page.click("button[value=next]")
    await page.check("input[value=MESSAGING]")
    await page.check("input[value=MEETINGS]")
    await page.check("input[value=ENTERPRISE]")
    await page.fill("#siteUrl", "polarlys")
    await page.wait_for_selector("#site-url-check >> text=polarlys.webex.com")
    await page.select_option("#timeZone", "Europe/Oslo")
    await page.fill("#licenseCount", "40")
    assert await axe_violations(page) == []
    await shot(page, "wizard-services")
    await page.click("button[value=next]")
    await page.wait_for_selector("text=Polarlys Media AS")
    await page.click("button[value=back]")  # Back keeps everything
    assert await page.input_value("#licenseCount") == "40"
    await page.click("button[value=next]")
    await page.click("button[value=save]")
    await page.wait_for_selector("text=Do you want to set up the customer now?")
    await shot(page, "wizard-setup-now")
    await page.click("button[value=setup-yes]")
    await page.wait_for_url("**/setup")
    await shot(page, "setup-wizard")
    await page.click("text=View customer")
    await page.wait_for_selector("h1:has-text('Polarlys Media AS')")
    assert await axe_violations(page) == []
    await shot(page, "customer-detail")


async def test_search_customers_in_norwegian(browser_page, team, client):
    from tests.pages.test_customers_page import start_trial

    token = team.tokens[Role.SALES_FULL_ADMIN]
    for name in ("Aurora Bygg AS", "Bølgen Kafé", "Fjordkraft Demo"):
        await start_trial(client, token, name, f"admin@{name.split()[0].lower()}.example")
    page = browser_page
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.click("button[value=nb]")
    await page.wait_for_selector("h1:has-text('Kunder')")
    await page.fill("#q", "Aurora")
    await page.wait_for_url("**q=Aurora**")
    await page.wait_for_function("document.querySelectorAll('#customer-rows tr').length === 1")
    assert "Aurora Bygg AS" in await page.text_content("#customer-rows")
    assert await axe_violations(page) == []
    await shot(page, "customers-search-nb")
