"""A released customer in real Chromium (issue 16 items 6 and 7): the partner finds it with the
RELEASED filter and reads its page, the calling numbers kept until their release (en and nb)."""
import pytest

from server.enums import Role
from tests.calling.test_calling import calling_life_to_grace_end
from tests.pages.conftest import axe_violations, shot
from tests.pages.test_browser_flows import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale, released, reserved", [("en-GB", "Released", "Reserved"),
                                                       ("nb-NO", "Frigitt", "Reservert")])
async def test_r_time_05_06_released_customer_and_its_reserved_numbers_in_the_browser(
        new_page, client, sessionmaker, locale, released, reserved):
    t, _ = await calling_life_to_grace_end(client, sessionmaker)
    page = await new_page(locale=locale)
    await sign_in(page, t.team.emails[Role.SALES_ADMIN], t.team.password)
    await page.select_option("#status", "RELEASED")
    await page.wait_for_url("**status=RELEASED**")
    link = page.locator(f"a[href='/customers/{t.customer_gid}']")
    await link.wait_for()
    assert await axe_violations(page) == []
    await shot(page, f"customers-released-{locale}")
    await link.click()
    await page.wait_for_selector("#calling-h")
    assert await page.locator("h1").count() == 1             # the whole page, not swapped into the list
    assert await page.locator("text=/Project-Id-Version/").count() == 0
    badges = await page.locator("#calling-h ~ article .badge").all_text_contents()
    assert badges == [reserved, reserved]
    assert released in await page.locator("hgroup .badge").first.text_content()
    assert await axe_violations(page) == []
    await shot(page, f"customer-released-{locale}")
