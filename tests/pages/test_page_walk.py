"""Issue 16 items 1 and 8: a browser walk of every portal page, signed in as each partner role, as the
trials team, as a customer admin (consent link, /my) and signed out. The `new_page` fixture
(tests/pages/conftest.py, BrowserProblems) fails the test on any console error (a CSP violation is
one), uncaught exception, failed request or subresource answering 4xx/5xx; here each page also
answers below 500 and, where the role may see it, 200."""
import pytest

from server.domain.orgs import directory
from server.enums import Role
from tests import factories
from tests.pages.test_customer_setup_forms import a_trial
from tests.pages.test_customer_view import requested_trial

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


async def visit(page, path: str, allowed=(200,)) -> int:
    response = await page.goto(path, wait_until="networkidle")
    assert response.status in allowed, (path, response.status)
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
    """A partner team, a provisioned trial with devices and calling, a consent request, a trials-team user."""
    team = await factories.partner_team(sessionmaker, "Walk Partner AS")
    customer_id, trial_id = await a_trial(client, sessionmaker, team, ["MESSAGING", "CALLING", "DEVICES"],
                                          calling={"pstn": "PARTNER_DIDS"})
    requested = await requested_trial(client, sessionmaker, team)
    consent = (await factories.consent_url(sessionmaker, settings, requested, "cio@org.example")).replace(
        settings.base_url, "")
    async with sessionmaker() as db, db.begin():
        await directory.create_user(db, "walk.queue@platform.example", [Role.TRIALS_TEAM], partner_id=None,
                                    password=PASSWORD)
    return {"team": team, "customer": customer_id, "trial": trial_id, "requested": requested, "consent": consent}


def partner_pages(portal) -> list[str]:
    customer, trial = portal["customer"], portal["trial"]
    return ["/", "/customers", "/customers?status=ACTIVE&q=a", "/trials/new", "/trials/existing",
            f"/customers/{customer}", f"/customers/{customer}/setup", f"/customers/{customer}/trials/{trial}/cancel",
            "/settings/users", "/settings/tokens", "/trials-team", "/no-such-page"]


@pytest.mark.parametrize("role", [Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN,
                                  Role.SALES_ADMIN, Role.READ_ONLY])
async def test_no_broken_resource_on_any_page_for_each_partner_role(new_page, portal, role):
    page = await new_page()
    await sign_in(page, portal["team"].emails[role])
    seen = {path: await visit(page, path, allowed=(200, 403, 404)) for path in partner_pages(portal)}
    assert seen["/customers"] == 200 and seen["/no-such-page"] == 404, seen
    if role in (Role.PARTNER_FULL_ADMIN, Role.SALES_FULL_ADMIN):                # the partner's whole list
        assert seen[f"/customers/{portal['customer']}"] == seen[f"/customers/{portal['customer']}/setup"] == 200


async def test_no_broken_resource_on_the_trials_team_pages(new_page, portal):
    page = await new_page(locale="nb-NO")
    await sign_in(page, "walk.queue@platform.example")
    await visit(page, "/trials-team")
    for path in ("/", "/customers", "/settings/users"):
        await visit(page, path, allowed=(200, 403, 404))


async def test_no_broken_resource_on_the_consent_page_and_my_trials(new_page, portal):
    page = await new_page()
    await page.goto(portal["consent"], wait_until="networkidle")            # the link in the email
    assert page.url.endswith(f"/my/consent/{portal['requested']}")
    await visit(page, "/my")
    await visit(page, f"/my/trials/{portal['requested']}/cancel-confirm")
    await visit(page, "/customers", allowed=(200, 403, 404))


async def test_no_broken_resource_signed_out(new_page, portal):
    page = await new_page()
    for path in ("/login", "/my/login"):
        await visit(page, path)
    for path in ("/auth/magic/not-a-token", "/auth/set-password/not-a-token", "/consent/not-a-token"):
        await visit(page, path, allowed=(200, 400, 404))
    await visit(page, "/customers")                                         # answered by the sign-in page
    assert "/login" in page.url
