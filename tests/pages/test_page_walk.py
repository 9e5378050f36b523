"""A browser walk of every portal page, signed in as each partner role, as the trials team, as a
customer admin (consent link, /my) and signed out, on a desktop (1280×900, English) and on a phone
(390×844, Norwegian: the longer words). The `new_page` fixture (tests/pages/conftest.py,
BrowserProblems) fails the test on any console error (a CSP violation is one), uncaught exception,
failed request or subresource answering 4xx/5xx. On every page, at both widths (issue 27 items 5
and 13): nothing scrolls sideways, ids are unique, heading levels go down one at a time, axe-core
finds no serious or critical violation; a screenshot of each is kept in test-output/screenshots/."""
import re

import pytest

from server.domain.orgs import directory
from server.enums import Role
from tests import factories
from tests.helpers import gql
from tests.pages.conftest import axe_violations, shot
from tests.pages.test_customer_setup_forms import a_trial
from tests.pages.test_customer_view import requested_trial

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "nb-NO", "is_mobile": True, "has_touch": True}
SCREENS = {"desktop": DESKTOP, "phone": PHONE}

#: Issue 27 item 13, besides axe: ids unique on the page, and no heading level skipped going down.
PAGE_FACTS = """() => {
  const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id);
  const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
  const levels = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
    .filter(h => h.getClientRects().length).map(h => Number(h.tagName[1]));
  const skips = levels.filter((level, i) => level > (i ? levels[i - 1] : 0) + 1);
  const root = document.documentElement;
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1 && e.getClientRects().length)
    .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ': ' + (e.textContent || '').trim().slice(0, 40));
  return {duplicates, levels, skips, overflow: root.scrollWidth - root.clientWidth, wide};
}"""


async def check(page, name: str) -> dict:
    """Issue 27 items 5 and 13 on the page as it is now, and its screenshot."""
    facts = await page.evaluate(PAGE_FACTS)
    await shot(page, name)
    assert facts["overflow"] <= 0, (name, "scrolls sideways", facts["overflow"], facts["wide"])
    assert facts["duplicates"] == [], (name, "duplicate ids", facts["duplicates"])
    assert facts["skips"] == [] and (not facts["levels"] or facts["levels"][0] == 1), (name, "headings", facts["levels"])
    assert await axe_violations(page) == [], name
    return facts


async def visit(page, path: str, name: str, allowed=(200,)) -> int:
    response = await page.goto(path, wait_until="networkidle")
    assert response.status in allowed, (path, response.status)
    await check(page, f"walk-{name}-{re.sub(r'[^a-z0-9]+', '-', path.lower()).strip('-') or 'home'}")
    return response.status


async def sign_in(page, email: str) -> None:
    await page.goto("/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert "/login" not in page.url


@pytest.fixture
async def portal(client, sessionmaker, settings):
    """A partner team, a provisioned trial with devices and calling, a consent request, a webhook
    endpoint with a delivery, a trials-team user."""
    team = await factories.partner_team(sessionmaker, "Walk Partner AS")
    customer_id, trial_id = await a_trial(client, sessionmaker, team, ["MESSAGING", "CALLING", "DEVICES"],
                                          calling={"pstn": "PARTNER_DIDS"})
    requested = await requested_trial(client, sessionmaker, team)
    consent = (await factories.consent_url(sessionmaker, settings, requested, "cio@org.example")).replace(
        settings.base_url, "")
    async with sessionmaker() as db, db.begin():
        await directory.create_user(db, "walk.queue@platform.example", [Role.TRIALS_TEAM], partner_id=None,
                                    password=PASSWORD)
    csrf = await factories.login(client, team.emails[Role.PARTNER_FULL_ADMIN], PASSWORD)
    created = await gql(client, "mutation($url: String!) { createWebhookEndpoint(url: $url, eventTypes: [\"trial.started\"], "
                        "description: \"CRM\") { webhookEndpoint { id } } }", {"url": "http://127.0.0.1:9/hooks/trialdesk"},
                        headers={"x-csrf-token": csrf})
    endpoint = created["data"]["createWebhookEndpoint"]["webhookEndpoint"]["id"]
    sent = await gql(client, "mutation($id: ID!) { sendTestWebhook(endpointId: $id) { delivery { id } } }",
                     {"id": endpoint}, headers={"x-csrf-token": csrf})
    delivery = sent["data"]["sendTestWebhook"]["delivery"]["id"]
    return {"team": team, "customer": customer_id, "trial": trial_id, "requested": requested, "consent": consent,
            "endpoint": endpoint, "delivery": delivery}


def partner_pages(portal) -> list[str]:
    customer, trial = portal["customer"], portal["trial"]
    return ["/", "/customers", "/customers?status=ACTIVE&q=a", "/trials/new", "/trials/existing",
            f"/customers/{customer}", f"/customers/{customer}/setup", f"/customers/{customer}/trials/{trial}/cancel",
            "/settings/users", "/settings/tokens", "/settings/partner", "/settings/partner/emails", "/settings/audit", "/settings/webhooks", f"/settings/webhooks/{portal['endpoint']}",
            f"/settings/webhooks/deliveries/{portal['delivery']}", "/trials-team", "/no-such-page"]


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("role", [Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN,
                                  Role.SALES_ADMIN, Role.READ_ONLY])
async def test_no_broken_resource_on_any_page_for_each_partner_role(new_page, portal, role, screen):
    page = await new_page(**SCREENS[screen])
    await sign_in(page, portal["team"].emails[role])
    name = f"{role.value.lower()}-{screen}"
    seen = {path: await visit(page, path, name, allowed=(200, 403, 404)) for path in partner_pages(portal)}
    assert seen["/customers"] == 200 and seen["/no-such-page"] == 404, seen
    if role in (Role.PARTNER_FULL_ADMIN, Role.SALES_FULL_ADMIN):                # the partner's whole list
        assert seen[f"/customers/{portal['customer']}"] == seen[f"/customers/{portal['customer']}/setup"] == 200
    if role is Role.PARTNER_FULL_ADMIN:
        assert {seen[p] for p in partner_pages(portal) if p.startswith("/settings/")} == {200}, seen


@pytest.mark.parametrize("screen", SCREENS)
async def test_no_broken_resource_on_the_trials_team_pages(new_page, portal, screen):
    page = await new_page(**SCREENS[screen])
    await sign_in(page, "walk.queue@platform.example")
    await visit(page, "/trials-team", f"trials-team-{screen}")
    for path in ("/", "/customers", "/settings/users"):
        await visit(page, path, f"trials-team-{screen}", allowed=(200, 403, 404))


@pytest.mark.parametrize("screen", SCREENS)
async def test_no_broken_resource_on_the_consent_page_and_my_trials(new_page, portal, screen):
    page = await new_page(**SCREENS[screen])
    await page.goto(portal["consent"], wait_until="networkidle")            # the link in the email
    assert page.url.endswith(f"/my/consent/{portal['requested']}")
    await check(page, f"walk-customer-admin-{screen}-consent")
    await visit(page, "/my", f"customer-admin-{screen}")
    await visit(page, f"/my/trials/{portal['requested']}/cancel-confirm", f"customer-admin-{screen}")
    await visit(page, f"/my/trials/{portal['requested']}/buy", f"customer-admin-{screen}")
    await visit(page, "/customers", f"customer-admin-{screen}", allowed=(200, 403, 404))


@pytest.mark.parametrize("screen", SCREENS)
async def test_no_broken_resource_signed_out(new_page, portal, screen):
    page = await new_page(**SCREENS[screen])
    for path in ("/login", "/my/login"):
        await visit(page, path, f"signed-out-{screen}")
    for path in ("/auth/magic/not-a-token", "/auth/set-password/not-a-token", "/consent/not-a-token"):
        await visit(page, path, f"signed-out-{screen}", allowed=(200, 400, 404))
    await page.goto("/customers", wait_until="networkidle")                # answered by the sign-in page
    assert "/login" in page.url
