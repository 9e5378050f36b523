"""`/trials/new` and `/trials/existing`: steps in hidden fields, errors next to fields, 303 at the end."""
import re

import pytest

from server.enums import Role, ServiceType
from tests import factories

CUSTOMER = {"companyName": "Nordlys Energi AS", "adminEmail": "it@nordlys.example", "businessVertical": "Education",
            "country": "NO", "supportedLocationConfirmed": "on"}


def hidden_fields(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html):
        found.setdefault(name, []).append(value)
    return found


async def post(client, csrf, url, data):
    return await client.post(url, data={"csrf_token": csrf, **data})


async def test_step_one_shows_countries_with_their_region(client, sales):
    response = await client.get("/trials/new")
    assert response.status_code == 200
    assert 'data-region="European Union"' in response.text
    assert 'name="supportedLocationConfirmed"' in response.text


async def test_missing_answers_are_shown_next_to_their_fields_and_kept(client, sales):
    response = await post(client, sales, "/trials/new", {"step": "customer", "go": "next", "companyName": "Kept AS"})
    assert response.status_code == 422
    assert 'value="Kept AS"' in response.text
    assert 'id="adminEmail-error"' in response.text and 'aria-invalid="true"' in response.text


async def test_next_carries_answers_in_hidden_fields_and_back_restores_them(client, sales):
    response = await post(client, sales, "/trials/new", {"step": "customer", "go": "next", **CUSTOMER})
    assert response.status_code == 200 and 'name="licenseCount"' in response.text
    assert hidden_fields(response.text)["companyName"] == ["Nordlys Energi AS"]
    back = await post(client, sales, "/trials/new", {"step": "services", "go": "back", **CUSTOMER,
                                                      "services": "MESSAGING", "licenseCount": "25"})
    assert 'value="Nordlys Energi AS"' in back.text
    assert hidden_fields(back.text)["licenseCount"] == ["25"]


async def test_save_asks_set_up_now_and_no_opens_the_customer(client, sales):
    answers = {**CUSTOMER, "services": ["MESSAGING", "MEETINGS"], "licenseCount": "20", "durationDays": "60",
               "meetings.edition": "BASIC"}
    review = await post(client, sales, "/trials/new", {"step": "services", "go": "next", **answers})
    assert "Nordlys Energi AS" in review.text and 'value="save"' in review.text
    question = await post(client, sales, "/trials/new", {"step": "review", "go": "save", **answers})
    assert "Set up now?" in question.text
    saved = await post(client, sales, "/trials/new", {"step": "setup", "go": "setup-no", **answers})
    assert saved.status_code == 303
    assert re.fullmatch(r"/customers/[^/]+", saved.headers["location"])


async def test_api_errors_return_to_their_step_with_everything_kept(client, sales):
    answers = {**CUSTOMER, "services": ["MEETINGS"], "licenseCount": "20", "durationDays": "30",
               "meetings.edition": "ENTERPRISE", "meetings.siteUrl": "-bad-", "meetings.timeZone": ""}
    response = await post(client, sales, "/trials/new", {"step": "setup", "go": "setup-yes", **answers})
    assert response.status_code == 422
    assert 'id="meetings-siteUrl-error"' in response.text
    assert 'value="-bad-"' in response.text
    assert hidden_fields(response.text)["companyName"] == ["Nordlys Energi AS"]


async def test_org_exists_sends_the_partner_back_to_the_email(client, sessionmaker, sales):
    await factories.existing_customer(sessionmaker, admin_email="boss@taken.example")
    answers = {**CUSTOMER, "adminEmail": "boss@taken.example", "services": ["MESSAGING"], "licenseCount": "5",
               "durationDays": "30"}
    response = await post(client, sales, "/trials/new", {"step": "setup", "go": "setup-no", **answers})
    assert response.status_code == 422
    assert 'id="adminEmail-error"' in response.text


async def test_site_url_check_answers_a_fragment(client, sales):
    good = await client.get("/trials/new/site-url", params={"meetings.siteUrl": "acme"},
                            headers={"HX-Request": "true"})
    assert "acme.webex.com" in good.text and "<html" not in good.text
    bad = await client.get("/trials/new/site-url", params={"meetings.siteUrl": "a"}, headers={"HX-Request": "true"})
    assert "field-error" in bad.text


async def test_read_only_users_cannot_start_trials(client, team):
    await factories.login(client, team.emails[Role.READ_ONLY], team.password)
    response = await client.get("/trials/new")
    assert response.status_code == 403


async def test_existing_flow_confirms_the_org_then_sends_the_request(client, sessionmaker, sales):
    await factories.existing_customer(sessionmaker, admin_email="cio@existing.example", name="Eksisterende AS",
                                      purchased=[ServiceType.MEETINGS])
    answers = {**CUSTOMER, "adminEmail": "cio@existing.example"}
    confirm = await post(client, sales, "/trials/existing", {"step": "customer", "go": "next", **answers})
    assert "Eksisterende AS" in confirm.text
    services = await post(client, sales, "/trials/existing", {"step": "confirm", "go": "next", **answers})
    assert re.search(r'value="MEETINGS"[^>]*disabled', services.text)
    sent = await post(client, sales, "/trials/existing", {"step": "review", "go": "send", **answers,
                                                          "services": "CALLING", "licenseCount": "5",
                                                          "durationDays": "30", "calling.pstn": "CCP"})
    assert sent.status_code == 303, sent.text


async def test_existing_flow_unknown_email_marks_the_email_field(client, sales):
    """R-EX-01 / issue 27 item 11: back on the customer step, the email marked, the message beside it,
    every answer kept."""
    response = await post(client, sales, "/trials/existing", {"step": "customer", "go": "next", **CUSTOMER,
                                                               "adminEmail": "nobody@nowhere.example"})
    assert response.status_code == 422
    field = re.search(r'<input id="adminEmail"[^>]*>', response.text).group(0)
    assert 'aria-invalid="true"' in field and 'value="nobody@nowhere.example"' in field
    assert re.search(r'id="adminEmail-error"[^>]*>[^<]*No organization uses this email', response.text)
    assert 'value="Nordlys Energi AS"' in response.text and 'value="Education" selected' in response.text


async def test_r_ex_01_the_request_keeps_the_vertical_the_partner_picked(client, sessionmaker, sales):
    """Issue 27 item 11: Retail stays Retail on the customer page (the org's vertical was unknown:
    "Other"); an org whose vertical is known keeps its own."""
    await factories.existing_customer(sessionmaker, admin_email="cio@ukjent.example", name="Ukjent AS")
    await factories.existing_customer(sessionmaker, admin_email="cio@kjent.example", name="Kjent AS",
                                      vertical="Healthcare")
    for email, shown in (("cio@ukjent.example", "Retail"), ("cio@kjent.example", "Healthcare")):
        answers = {**CUSTOMER, "adminEmail": email, "businessVertical": "Retail", "services": "MESSAGING",
                   "licenseCount": "5", "durationDays": "30"}
        review = await post(client, sales, "/trials/existing", {"step": "services", "go": "next", **answers})
        assert "Retail" in re.search(r'<dl class="facts">.*?</dl>', review.text, re.S).group(0)
        sent = await post(client, sales, "/trials/existing", {"step": "review", "go": "send", **answers})
        assert sent.status_code == 303, sent.text
        page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (await client.get(sent.headers["location"])).text))
        assert f"Business vertical {shown}" in page


async def test_review_shows_every_choice_in_words(client, sales):
    """Issue 27 item 11: Review names the country, the vertical and the Meetings features chosen."""
    answers = {**CUSTOMER, "services": ["MEETINGS"], "licenseCount": "20", "durationDays": "60",
               "meetings.edition": "BASIC", "meetings.features": ["WEBEX_ASSISTANT", "MEETINGS_1000"]}
    review = await post(client, sales, "/trials/new", {"step": "services", "go": "next", **answers})
    facts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.search(r'<dl class="facts">.*?</dl>', review.text, re.S).group(0)))
    assert "Country Norway" in facts and "Business vertical Education" in facts
    assert "Webex Assistant" in facts and "1000-participant meetings" in facts


@pytest.mark.browser
async def test_a_fixed_fields_error_disappears_when_it_is_fixed(new_page, team):
    """Issue 27 item 11, in Chromium: the server marks a missing email; typing one clears the mark and
    its message at once (the next step checks it again)."""
    from tests.pages.test_browser_flows import sign_in

    page = await new_page()
    await sign_in(page, team.emails[Role.SALES_FULL_ADMIN], team.password)
    await page.goto("/trials/new")
    await page.fill("#companyName", "Polarlys Media AS")
    await page.evaluate("() => document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    await page.click("button[value=next]")
    await page.wait_for_selector("#adminEmail-error")
    assert await page.get_attribute("#adminEmail", "aria-invalid") == "true"
    await page.fill("#adminEmail", "it@polarlys.example")
    assert await page.locator("#adminEmail-error").count() == 0
    assert await page.get_attribute("#adminEmail", "aria-invalid") is None
