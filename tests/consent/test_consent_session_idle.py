"""A consent link's customer-admin session (issue 21) lasts like a sign-in link's: it ends after 15
minutes without a request, and each request keeps it alive; before, it lasted the 12 hours of a
partner's session."""
from __future__ import annotations

from datetime import timedelta

from server import clock
from server.auth import sessions
from tests.consent.test_consent_access import BOSS, consent_session
from tests.factories import existing_customer
from tests.helpers import gql
from tests.trials.conftest import EXISTING, new_customer_input, trial_of

VIEWER = "{ viewer { email } }"


async def _advance(sessionmaker, minutes: int) -> None:
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(minutes=minutes))


async def test_a_consent_link_session_ends_after_15_idle_minutes(app, settings, kit):
    await existing_customer(kit.sessionmaker, admin_email=BOSS)
    trial = trial_of(await kit.call(EXISTING, {"input": new_customer_input(adminEmail=BOSS, services=["CALLING"])}),
                     "requestTrialForExistingCustomer")
    browser, csrf = await consent_session(app, kit.sessionmaker, settings, trial["id"])
    try:
        for _ in range(3):  # active: 3 × 10 minutes, past the first 15
            await _advance(kit.sessionmaker, 10)
            body = await gql(browser, VIEWER, headers={"x-csrf-token": csrf})
            assert body["data"]["viewer"]["email"] == BOSS, body
        await _advance(kit.sessionmaker, int(sessions.CUSTOMER_IDLE.total_seconds() // 60) + 1)
        assert (await browser.get("/my")).status_code in (302, 303)
    finally:
        await browser.aclose()
