"""Issue 27 item 11 in Chromium, on a desktop (1280×900, English) and a phone (390×844, Norwegian):
the existing-customer flow marks the field it complains about and clears it once fixed, lays its
service list out without overlap, shows every choice in words on Review and keeps the vertical typed
(R-EX-01, R-EX-02)."""
import pytest

from server.enums import Role, ServiceType
from tests import factories
from tests.pages.test_page_walk import SCREENS, check

pytestmark = pytest.mark.browser

#: The services step's choices as drawn: each checkbox and each line of text (the service's name, why
#: it is not available), none of which may cover another (issue 27 item 11: they overlapped).
OVERLAPS = """() => {
  const parts = [];
  document.querySelectorAll('input[name=services]').forEach(input => {
    parts.push(input.getBoundingClientRect());
    const walker = document.createTreeWalker(input.closest('label'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      parts.push(...Array.from(range.getClientRects()));
    }
  });
  const hits = [];
  parts.forEach((a, i) => parts.slice(i + 1).forEach(b => {
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
      hits.push([a.top, a.left, b.top, b.left]);
  }));
  return {hits, count: document.querySelectorAll('input[name=services]').length};
}"""
WORDS = {"desktop": ("Retail", "Norway", "Webex Assistant", "No organization uses this email",
                     "Not available for this organization."),
         "phone": ("Varehandel", "Norge", "Webex Assistant", "Ingen organisasjon", "Ikke tilgjengelig for denne organisasjonen.")}


@pytest.mark.timeout(400)  # four pages under axe, at both widths, on a shared machine
@pytest.mark.parametrize("screen", SCREENS)
async def test_r_ex_01_existing_customer_flow_in_words_and_without_overlap(new_page, sessionmaker, team, screen):
    retail, norway, assistant, unknown, purchased = WORDS[screen]
    email = f"cio.{screen}@fjellet.example"
    await factories.existing_customer(sessionmaker, admin_email=email, name=f"Fjellet {screen} AS",
                                      purchased=[ServiceType.CALLING])
    page = await new_page(**SCREENS[screen])
    await page.goto("/login")
    await page.fill("input[name=email]", team.emails[Role.SALES_FULL_ADMIN])
    await page.fill("input[name=password]", team.password)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url("**/customers")
    await page.goto("/trials/existing")
    await page.fill("#companyName", f"Fjellet {screen} AS")
    await page.fill("#adminEmail", "nobody@nowhere.example")
    await page.select_option("#businessVertical", "Retail")
    await page.select_option("#country", "NO")
    await page.check("input[name=supportedLocationConfirmed]")
    await page.click("button[value=next]")
    await page.wait_for_selector("#adminEmail-error")                        # marked, the message beside it
    assert unknown in await page.text_content("#adminEmail-error")
    assert await page.get_attribute("#adminEmail", "aria-invalid") == "true"
    assert await page.input_value("#businessVertical") == "Retail"            # nothing typed is lost
    await check(page, f"existing-{screen}-unknown-email")
    await page.fill("#adminEmail", email)                                     # fixed: the mark goes
    assert await page.locator("#adminEmail-error").count() == 0
    await page.click("button[value=next]")
    await page.wait_for_selector(f"text=Fjellet {screen} AS")                 # the confirmed org
    await page.click("button[value=next]")
    await page.wait_for_selector("input[name=services]")
    layout = await page.evaluate(OVERLAPS)
    assert layout["count"] == 4 and layout["hits"] == [], layout
    assert purchased in await page.text_content("label:has(input[value=CALLING])")    # why, in words
    await check(page, f"existing-{screen}-services")
    await page.check("input[name=services][value=MEETINGS]")
    await page.check("input[name=meetings\\.features][value=WEBEX_ASSISTANT]")
    await page.click("button[value=next]")
    facts = await page.text_content("dl.facts")
    assert retail in facts and norway in facts and assistant in facts, facts
    await check(page, f"existing-{screen}-review")
    await page.click("button[value=send]")
    await page.wait_for_url("**/customers/**")
    body = await page.text_content("main")
    assert retail in body and assistant in body, body
