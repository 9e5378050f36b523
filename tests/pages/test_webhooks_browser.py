"""Issue 17 in real Chromium: a partner full admin adds a webhook endpoint (secret shown once),
sends a test event, reads the delivery log and one delivery, in en and nb; axe-core finds no
serious or critical violation on the three pages."""
from __future__ import annotations

import pytest

from jobs import webhooks
from jobs.runtime import Runtime
from server.enums import Role
from tests.pages.conftest import axe_violations, shot
from tests.pages.test_browser_flows import sign_in
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["en", "nb"])
async def test_webhooks_settings_create_test_event_and_delivery_log(new_page, app, settings, team, locale):
    receiver = await Receiver().start()
    try:
        page = await new_page(locale="nb-NO" if locale == "nb" else "en-US")
        await sign_in(page, team.emails[Role.PARTNER_FULL_ADMIN], team.password)
        await page.click("header nav a[href='/settings/users']")          # Settings, then its Webhooks section
        await page.click("nav.subnav a[href='/settings/webhooks']")
        await page.wait_for_selector("form[action='/settings/webhooks']")
        assert await axe_violations(page) == []
        await page.fill("#webhook-url", receiver.url)
        await page.fill("#webhook-description", "CRM")
        await page.check("input[value='trial.started']")
        await page.check("input[value='trial.expired']")
        await page.click("form[action='/settings/webhooks'] button[type=submit]")
        secret = (await page.text_content("#new-secret")).strip()
        assert secret.startswith("whsec_")
        await shot(page, f"webhooks-created-{locale}")
        await page.click(f".notice a")
        # Wait for the POST's answer (boosted: htmx sends it): flushing before the row is
        # committed finds nothing to deliver.
        async with page.expect_response(lambda r: r.request.method == "POST" and "/settings/webhooks/" in r.url):
            await page.click("input[name=action][value=test] + button")
        runtime = Runtime(settings=settings, engine=app.state.engine, sessionmaker=app.state.sessionmaker)
        assert await webhooks.flush(runtime) == 1
        await page.reload()
        delivered = {"en": "Delivered", "nb": "Levert"}[locale]
        assert delivered in await page.text_content("table")
        assert await axe_violations(page) == []
        await shot(page, f"webhook-endpoint-{locale}")
        await page.click("a[href^='/settings/webhooks/deliveries/']")
        await page.wait_for_url("**/settings/webhooks/deliveries/**")
        assert "webhook-signature" in await page.text_content("main")
        assert await axe_violations(page) == []
        await shot(page, f"webhook-delivery-{locale}")
        assert len(receiver.requests) == 1
    finally:
        await receiver.stop()
