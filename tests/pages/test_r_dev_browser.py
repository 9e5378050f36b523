"""R-DEV-01 / R-DEV-02 in Chromium: the start wizard's devices step asks the phones' PoE confirmation
and where the devices go (address and contact) before the review, at 1280×900 and at 390×844 (no
sideways scroll, unique ids, headings in order, axe clean; the phone in Norwegian); the review shows the
address."""
import pytest

from server.enums import Role
from tests.pages.test_browser_flows import sign_in
from tests.pages.test_page_walk import SCREENS, check

pytestmark = pytest.mark.browser


async def fill_delivery(scope, prefix: str, phone: str = "912 34 567") -> None:
    """Type an Oslo address and its contact into the delivery fields under `prefix` (a page or a form)."""
    for name, value in (("shippingAddress.line1", "Storgata 1"), ("shippingAddress.postalCode", "0155"),
                        ("shippingAddress.city", "Oslo"), ("contact.name", "Kari Nordmann"), ("contact.phone", phone)):
        await scope.locator(f"input[name='{prefix}.{name}']").fill(value)


@pytest.mark.parametrize("screen", SCREENS)
async def test_r_dev_01_the_devices_step_asks_poe_and_the_delivery_before_review(new_page, team, screen):
    page = await new_page(**SCREENS[screen])                                # the phone in Norwegian
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.goto("/trials/new")
    await page.fill("#companyName", "Lysglimt AS")
    await page.fill("#adminEmail", "it@lysglimt.example")
    await page.select_option("#businessVertical", index=1)
    await page.select_option("#country", "NO")
    await page.check("input[name=supportedLocationConfirmed]")
    await page.click("button[value=next]")
    await page.check("input[value=MESSAGING]")
    await page.check("input[value=DEVICES]")
    await page.click("button[value=next]")
    await page.wait_for_selector("#dev-PHONE-quantity")
    await check(page, f"r-dev-devices-step-{screen}")
    # the catalog's own limit follows the model picked (Room Bar 2, Board Pro 55 1)
    await page.select_option("#dev-ROOM_DEVICE-model", "Cisco Room Bar")
    assert await page.get_attribute("#dev-ROOM_DEVICE-quantity", "max") == "2"
    await page.select_option("#dev-ROOM_DEVICE-model", "Cisco Board Pro 55")
    assert await page.eval_on_selector("#dev-ROOM_DEVICE-quantity", "e => e.max") == "1"
    await page.fill("#dev-PHONE-quantity", "2")
    await page.click("button[value=next]")
    await page.wait_for_selector("#devices-PHONE-poeConfirmed-error")       # asked here, not after the review
    assert await page.is_visible("#devices-contact-phone-error")
    await check(page, f"r-dev-devices-step-errors-{screen}")
    await page.check("input[name='devices.PHONE.poeConfirmed']")
    await fill_delivery(page, "devices", phone="12")
    await page.click("button[value=next]")
    await page.wait_for_selector("button[value=save]")
    summary = await page.text_content("dl.facts")
    assert "Storgata 1" in summary and "Kari Nordmann" in summary and "PoE" in summary
    await check(page, f"r-dev-review-{screen}")
    await page.click("button[value=save]")
    await page.click("button[value=setup-no]")
    await page.wait_for_selector("#devices-contact-phone-error")           # a bad phone: back to its field
    assert (await page.text_content("#devices-contact-phone-error")).strip()
    await page.fill("#dev-phone", "912 34 567")
    await page.click("button[value=next]")
    await page.click("button[value=save]")
    await page.click("button[value=setup-no]")
    await page.wait_for_selector("h1:has-text('Lysglimt AS')")
    assert "+4791234567" in await page.text_content("address.delivery")
    await check(page, f"r-dev-customer-shipment-{screen}")
