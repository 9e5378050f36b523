"""`trialdesk consent-link` and the demo seed's trials (DESIGN CLI contract)."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from server.db.models import Trial
from server.demo import seed
from tests.factories import existing_customer
from tests.trials.conftest import EXISTING, new_customer_input, trial_of
from tests.cli.test_cli import cli


async def test_consent_link_prints_a_url_that_opens_the_request(kit, settings):
    from server.domain.consent import requests as consent

    await existing_customer(kit.sessionmaker, admin_email="boss@cli.example")
    trial = trial_of(await kit.call(EXISTING, {"input": new_customer_input(adminEmail="boss@cli.example")}),
                     "requestTrialForExistingCustomer")
    done = await asyncio.to_thread(cli, "consent-link", "--trial", trial["id"], "--email", "boss@cli.example")
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith(f"{settings.base_url}/consent/")
    async with kit.sessionmaker() as db, db.begin():
        user, _ = await consent.redeem_link(db, settings, url.rsplit("/", 1)[1])
    assert user.email == "boss@cli.example"
    bad = await asyncio.to_thread(cli, "consent-link", "--trial", trial["id"], "--email", "nobody@x.example")
    assert bad.returncode == 1 and "not a user" in bad.stderr


async def test_demo_seed_has_trials_in_several_states(sessionmaker):
    async with sessionmaker() as db, db.begin():
        await seed(db)
    async with sessionmaker() as db:
        states = set(await db.scalars(select(Trial.state)))
    assert states == {"PENDING_PROVISIONING", "ACTIVE", "PENDING_CONSENT", "EXPIRED"}
