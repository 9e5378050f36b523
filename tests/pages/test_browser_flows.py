"""Playwright flows in real Chromium, as a partner would click and type (one test per flow)."""
import pytest

from server.enums import Role
from tests import factories
from tests.helpers import gql
from tests.pages.conftest import axe_violations, htmx_ready, shot

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
    await htmx_ready(page, "form.toolbar[hx-get]")
    await page.fill("#q", "Aurora")
    await page.wait_for_url("**q=Aurora**")
    await page.wait_for_function("document.querySelectorAll('#customer-rows tr').length === 1")
    assert "Aurora Bygg AS" in await page.text_content("#customer-rows")
    assert await axe_violations(page) == []
    await shot(page, "customers-search-nb")


async def test_sign_in_and_switch_language(new_page, team, client):
    """Both languages offered, the current one marked; counts pluralised (1 kunde / 2 kunder)."""
    from tests.pages.test_customers_page import start_trial

    await start_trial(client, team.tokens[Role.SALES_FULL_ADMIN], "Solstråle AS", "it@solstrale.example")
    page = await new_page()
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    assert await page.get_attribute("button[value=en]", "aria-pressed") == "true"
    assert await page.get_attribute("button[value=nb]", "aria-pressed") is None
    for lang in ("en", "nb"):  # both shown, readable (the current one is marked, not hidden)
        color = await page.eval_on_selector(f"button[value={lang}]", "e => getComputedStyle(e).color")
        assert color != "rgb(255, 255, 255)" and await page.is_visible(f"button[value={lang}]")
    await page.click("button[value=nb]")
    await page.wait_for_selector("h1:has-text('Kunder')")
    assert await page.get_attribute("button[value=nb]", "aria-pressed") == "true"
    assert await page.text_content("#results small") == "1 kunde"
    assert await axe_violations(page) == []
    await shot(page, "language-switch-nb")
    await page.click("button[value=en]")
    await page.wait_for_selector("h1:has-text('Customers')")
    assert await page.text_content("#results small") == "1 customer"


async def test_request_a_trial_for_an_existing_customer(browser_page, team, sessionmaker):
    await factories.existing_customer(sessionmaker, admin_email="cio@breeze.example", name="Breeze Logistics")
    page = browser_page
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.click("text=Trial for an existing customer")
    await page.fill("#companyName", "Breeze")
    await page.fill("#adminEmail", "cio@breeze.example")
    await page.select_option("#businessVertical", "Transportation")
    await page.select_option("#country", "NO")
    await page.check("input[name=supportedLocationConfirmed]")
    await page.click("button[value=next]")
    await page.wait_for_selector("h2:has-text('Confirm organization')")
    assert "Breeze Logistics" in await page.text_content("dl.facts")          # R-EX-01: name and country only
    assert await axe_violations(page) == []
    await shot(page, "existing-confirm")
    await page.click("button[value=back]")                                    # Back keeps everything typed
    assert await page.input_value("#adminEmail") == "cio@breeze.example"
    await page.click("button[value=next]")
    await page.wait_for_selector("h2:has-text('Confirm organization')")       # each step loaded before the next click
    await page.click("button[value=next]")
    await page.wait_for_selector("input[value=MESSAGING]")
    await page.check("input[value=MESSAGING]")
    await page.fill("#licenseCount", "25")
    await page.click("button[value=next]")
    await page.wait_for_selector("button[value=send]")
    assert await axe_violations(page) == []
    await shot(page, "existing-review")
    await page.click("button[value=send]")
    await page.wait_for_selector("text=The trial request was sent.")
    assert "Trial pending customer consent" in await page.text_content("main")
    await shot(page, "existing-sent")


async def test_extend_and_cancel_on_the_customer_page(browser_page, team, client, sessionmaker):
    from tests.pages.test_customer_detail import a_customer

    customer_id, _ = await a_customer(client, team, sessionmaker=sessionmaker)
    page = browser_page
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.goto(f"/customers/{customer_id}")
    await page.click("article.trial summary:has-text('Extend')")
    option = page.locator("article.trial label:has(input[name=days][value='60'])")
    new_end = await option.locator("strong").text_content()                # R-EXT-01: shown before choosing
    await option.click()
    await shot(page, "detail-extend")
    await page.click("article.trial form[action$='/extend'] button[type=submit]")
    await page.wait_for_selector(f"article.trial header:has-text('{new_end}')")
    assert await axe_violations(page) == []
    await page.click("article.trial button[data-dialog^=cancel-]")
    await page.wait_for_selector("dialog[open]")
    assert await axe_violations(page) == []
    await shot(page, "detail-cancel-dialog")
    await page.click("dialog[open] button:has-text('Yes')")
    await page.wait_for_selector("text=The trial was cancelled.")
    assert "Cancelled" in await page.text_content("article.trial header")
    await shot(page, "detail-cancelled")


async def test_customer_admin_accepts_the_consent_request_in_norwegian(new_page, sessionmaker, settings, client):
    from tests.pages.test_customer_view import requested_trial

    team = await factories.partner_team(sessionmaker, "Fjordnett Partner AS")
    trial_id = await requested_trial(client, sessionmaker, team)
    link = (await factories.consent_url(sessionmaker, settings, trial_id, "cio@org.example")).replace(
        settings.base_url, "")
    page = await new_page(locale="nb-NO")
    await page.goto(link)                                                     # the link in the email
    await page.wait_for_selector("h1:has-text('Fjordnett Partner AS')")      # who asks
    assert "Fjellet AS" in await page.text_content("h1")
    await page.check("input[name=grantFullAdmin]")
    assert await axe_violations(page) == []
    await shot(page, "consent-nb")
    await page.click("button[value=accept]")
    await page.wait_for_selector("text=Takk: forespørselen om prøveversjon er godtatt.")
    assert await axe_violations(page) == []
    await shot(page, "my-accepted-nb")


async def test_customer_view_interest_in_buying_and_expired_tag(browser_page, sessionmaker):
    import re
    from datetime import timedelta

    from sqlalchemy import select

    from server import clock
    from server.db.models import OutboxEmail, Trial
    from tests.devices.kit import active_trial

    arranged = await active_trial(sessionmaker, country="NO", services=("MESSAGING", "MEETINGS"))
    async with sessionmaker() as db, db.begin():                             # R-TIME-02: ended yesterday
        trial = await db.get(Trial, arranged.trial_id)
        trial.state, trial.ends_at = "EXPIRED", clock.now() - timedelta(days=1)
    from server.db.models import CustomerUser

    async with sessionmaker() as db:
        email = await db.scalar(select(CustomerUser.email).where(CustomerUser.customer_id == arranged.customer_id))
    page = browser_page
    await page.goto("/my")
    await page.wait_for_url("**/my/login**")
    await page.fill("input[name=email]", email)
    await page.click("form[action='/my/login'] button[type=submit]")
    await page.wait_for_selector("text=a sign-in link is on its way")
    async with sessionmaker() as db:
        body = await db.scalar(select(OutboxEmail.body_text).where(OutboxEmail.recipient == email,
                                                                   OutboxEmail.kind == "magic_link"))
    await page.goto(re.search(r"/auth/magic/\S+", body).group(0))            # the link in the email
    await page.wait_for_selector("h1:has-text('Your trials')")
    assert await page.locator("article .badge.expired:has-text('Expired')").count() >= 2  # state and licenses
    assert await axe_violations(page) == []
    await shot(page, "my-expired")
    await page.click("a[role=button]:has-text('Buy')")                      # R-BUY-01: the Buy page
    await page.wait_for_selector("h1:has-text('Buy Webex for')")
    await page.click("button:has-text(\"I'm interested in buying\")")
    await page.wait_for_selector("text=has been told that you want to buy")
    await shot(page, "my-interest")


async def test_trials_team_records_a_shipment_and_decides_an_extension(browser_page, sessionmaker, client):
    from server.domain.orgs import directory
    from tests.devices.kit import ASK, REQUEST, PHONE, active_trial, ok, request_and_ship

    waiting = await active_trial(sessionmaker, country="NO")
    delivery = {"shippingAddress": {"line1": "Storgata 1", "city": "Oslo", "postalCode": "0155", "country": "NO"},
                "contact": {"name": "Kari Nordmann", "phone": "+47 912 34 567"}}
    ok(await gql(client, REQUEST, {"t": waiting.trial_gid, "d": {**PHONE, **delivery}}, token=waiting.sales),
       "requestShipment", "shipment")
    shipped = await active_trial(sessionmaker, country="US", team=waiting.team, trials_team=waiting.trials_team)
    await request_and_ship(client, shipped)
    ok(await gql(client, ASK, {"t": shipped.trial_gid, "d": 14, "r": "Pilot runs two more weeks"},
                 token=shipped.sales), "requestDeviceExtension", "request")
    async with sessionmaker() as db, db.begin():
        await directory.create_user(db, "queue@platform.example", [Role.TRIALS_TEAM], partner_id=None,
                                    password="correct horse battery staple")
    page = browser_page
    await page.goto("/login")
    await page.fill("input[name=email]", "queue@platform.example")
    await page.fill("input[name=password]", "correct horse battery staple")
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url("**/trials-team")
    assert await axe_violations(page) == []
    await shot(page, "trials-team-queue")
    shipment = page.locator("section[aria-labelledby=ship-h] article").first
    assert "Storgata 1" in await shipment.text_content() and "+4791234567" in await shipment.text_content()
    await shipment.locator("input[name=demoOrderNumber]").fill("DEMO-4711")
    await shipment.locator("textarea[name=serialNumbers]").fill("FCH1111A1\nFCH2222B2")
    await shipment.locator("button:has-text('Record shipment')").click()
    await page.wait_for_selector("section[aria-labelledby=ship-h] >> text=Nothing waiting.")
    extension = page.locator("section[aria-labelledby=ext-h] article").first
    assert "Pilot runs two more weeks" in await extension.text_content()
    await extension.locator("input[name=note]").fill("OK, two weeks")
    await extension.locator("button[value=approve]").click()
    await page.wait_for_selector("section[aria-labelledby=ext-h] >> text=Nothing waiting.")
    assert await axe_violations(page) == []
    await shot(page, "trials-team-done")


async def test_devices_and_calling_on_the_customer_page(browser_page, team, client, sessionmaker):
    from tests.pages.test_customer_setup_forms import a_trial
    from tests.pages.test_r_dev_browser import fill_delivery

    customer_id, _ = await a_trial(client, sessionmaker, team, ["CALLING", "DEVICES"],
                                   calling={"pstn": "PARTNER_DIDS"})
    page = browser_page
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.goto(f"/customers/{customer_id}")
    await page.click("summary:has-text('Request a shipment')")
    await page.select_option("select[name=device]", "PHONE:Cisco Desk Phone 9851")
    await page.fill("input[name=quantity]", "3")
    await fill_delivery(page.locator("form[action$='/ship']"), "device")    # R-DEV-02: where to, to whom
    await page.click("form[action$='/ship'] button[type=submit]")
    await page.wait_for_selector("#device-poeConfirmed-error")               # R-DEV-01: PoE, next to the field
    assert await page.input_value("input[name=quantity]") == "3"
    await page.check("input[name=poeConfirmed]")
    await page.click("form[action$='/ship'] button[type=submit]")
    await page.wait_for_selector("article.trial td:has-text('3 × Cisco Desk Phone 9851')")
    assert "+4791234567" in await page.text_content("article.trial address.delivery")
    await page.click("summary:has-text('Add a calling location')")
    await page.fill("#loc-name", "Hovedkontor")
    await page.fill("#line1", "Karl Johans gate 1")
    await page.fill("#postalCode", "0154")
    await page.fill("#city", "Oslo")
    await page.select_option("#loc-tz", "Europe/Oslo")
    assert await axe_violations(page) == []
    await shot(page, "detail-devices-calling-forms")
    await page.click("form[action$='/calling/location'] button[type=submit]")
    await page.wait_for_selector("text=The calling location was added.")
    assert "3 + 2 × 1 = 5." in await page.text_content("#calling-requirement")
    await page.click("summary:has-text('Assign numbers')")
    await page.fill("#numbers-1", "+4721234567\n+4721234568")
    await page.click("form[action$='/calling/numbers'] button[type=submit]")
    await page.wait_for_selector("text=The numbers were assigned.")
    assert "2 assigned, 3 missing." in await page.text_content("#calling-requirement")
    assert await axe_violations(page) == []
    await shot(page, "detail-calling-numbers")
