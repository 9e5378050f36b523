"""R-BUY-01 / R-TIME-01 in Chromium, on a desktop (1280×900, English) and a phone (390×844,
Norwegian): the warning email's Buy link, signed out → sign-in link → the Buy page (who the partner
is, how to reach them) → "I'm interested in buying" → the partner's admins get the email over SMTP."""
import re

import pytest

from tests.pages.test_page_walk import SCREENS, check
from tests.timeline.conftest import life, runtime, smtp_sink  # noqa: F401 - the fixtures, shared
from tests.trials.test_r_buy_01_buy_page import PARTNER, warned_trial

pytestmark = pytest.mark.browser

WORDS = {"desktop": ("admin", "Send me a sign-in link", "Buy Webex for", "I'm interested in buying",
                     f"{PARTNER} has been told that you want to buy"),
         "phone": ("boss", "Send meg en påloggingslenke", "Kjøp Webex for", "Jeg er interessert i å kjøpe",
                   f"{PARTNER} har fått beskjed om at du vil kjøpe")}


@pytest.mark.parametrize("screen", SCREENS)
async def test_r_buy_01_buy_link_in_the_email_to_the_partners_inbox(new_page, client, sessionmaker, life, smtp_sink,
                                                                     screen):
    who, send_link, heading, button, told = WORDS[screen]
    t, link = await warned_trial(client, sessionmaker, life, smtp_sink)
    admin = next(e for e in t.customer_admins if e.startswith(who))
    page = await new_page(**SCREENS[screen])
    await page.goto(link)                                                     # the Buy link, signed out
    await page.wait_for_url("**/my/login?next=**")
    await check(page, f"buy-{screen}-sign-in")
    await page.fill("input[name=email]", admin)
    await page.click(f"button:has-text('{send_link}')")
    await page.wait_for_selector("[role=status]")
    await life.run()                                                          # the sign-in link, over SMTP
    mail = [m for m in smtp_sink.messages if m.kind == "magic_link" and m.to == admin][-1]
    await page.goto(re.search(r"/auth/magic/\S+", mail.text).group(0))
    await page.wait_for_selector(f"h1:has-text('{heading}')")
    assert page.url.endswith(link)
    assert await page.locator("a[href='mailto:sales@nordlys.example']").count() == 1
    await check(page, f"buy-{screen}-page")
    await page.click(f"button:has-text(\"{button}\")")
    await page.wait_for_selector(f"[role=status]:has-text('{told}')")
    assert await page.locator(f"button:has-text(\"{button}\")").count() == 0    # told: nothing more to click
    await check(page, f"buy-{screen}-told")
    await life.run()
    assert sorted(m.to for m in smtp_sink.messages if m.kind == "purchase_interest") == t.partner_admins
