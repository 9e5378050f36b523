"""Issue 3: settings, health, migrations, clock, database constraints, schema drift."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from server import clock
from server.db import migrate
from server.db.models import PhoneNumber, Shipment, Trial, TrialService
from server.domain.orgs import directory
from server.settings import DEFAULT_SECRET_KEY, Settings
from tests.conftest import ROOT


def test_production_refuses_default_secret_key():
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(TRIALDESK_ENV="production", SECRET_KEY=DEFAULT_SECRET_KEY)


def test_production_refuses_test_clock():
    with pytest.raises(ValueError, match="TEST_CLOCK"):
        Settings(TRIALDESK_ENV="production", SECRET_KEY="k" * 40, TRIALDESK_TEST_CLOCK="1")


def test_production_with_strong_key_starts():
    assert Settings(TRIALDESK_ENV="production", SECRET_KEY="k" * 40, TRIALDESK_TEST_CLOCK="0").env == "production"


async def test_migrations_upgrade_to_head_and_back_to_base(empty_database_url):
    url = empty_database_url
    await asyncio.to_thread(migrate.upgrade, url)
    await asyncio.to_thread(migrate.downgrade, url, "base")
    await asyncio.to_thread(migrate.upgrade, url)


async def test_healthz_reports_database_and_redis(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert response.headers["x-request-id"]


async def test_healthz_is_503_naming_redis_when_it_is_down(settings):
    from server.app import create_app
    from server.embedded_redis import free_port
    import httpx

    broken = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(broken)
    # arq's create_pool retries the connection at start-up; a dead Redis must not stop the web app
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            response = await c.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["redis"].startswith("down")


async def test_request_id_is_echoed(client):
    response = await client.get("/healthz", headers={"x-request-id": "abc12345-req"})
    assert response.headers["x-request-id"] == "abc12345-req"


async def test_home_sends_a_visitor_to_sign_in_on_the_base_layout_with_vendored_assets(client):
    home = await client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/login"
    response = await client.get("/login")
    assert response.status_code == 200
    assert '<meta name="csrf-token"' in response.text
    assert "/static/htmx.min.js" in response.text
    assert (await client.get("/static/htmx.min.js")).status_code == 200
    assert (await client.get("/static/pico.min.css")).status_code == 200


async def test_test_clock_advance_is_shared_through_the_database(sessionmaker):
    before = clock.now()
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=10))
    clock.configure(True)  # another process: no offset in memory yet
    async with sessionmaker() as db:
        moved = await clock.refresh(db)
    assert moved - before >= timedelta(days=10)


def test_clock_is_wall_time_when_test_clock_is_off():
    clock.configure(False)
    try:
        assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    finally:
        clock.configure(True)


def test_schema_graphql_is_committed_and_matches_the_code():
    from server.schema.schema import sdl

    committed = (ROOT / "schema.graphql").read_text()
    assert committed == sdl(), "schema.graphql drifted: run `trialdesk schema export`"


async def _trial(db, customer_id, partner_id):
    trial = Trial(customer_id=customer_id, partner_id=partner_id, kind="NEW_CUSTOMER", state="ACTIVE",
                  license_count=10, duration_days=30, created_at=clock.now())
    db.add(trial)
    await db.flush()
    return trial


async def _arrange(sessionmaker):
    async with sessionmaker() as db, db.begin():
        partner = await directory.create_partner(db, "P")
        other = await directory.create_partner(db, "Q")
        customer = await directory.create_customer(db, "C", "NO", "a@c.example")
        t1 = await _trial(db, customer.id, partner.id)
        t2 = await _trial(db, customer.id, other.id)
        return customer.id, t1.id, t2.id


async def test_database_refuses_a_second_held_trial_of_one_service_for_a_customer(sessionmaker):
    """R-SVC-06 holds under concurrency because the database enforces it."""
    customer, t1, t2 = await _arrange(sessionmaker)
    async with sessionmaker() as db, db.begin():
        db.add(TrialService(trial_id=t1, customer_id=customer, service="MEETINGS", holds=True))
    with pytest.raises(IntegrityError):
        async with sessionmaker() as db, db.begin():
            db.add(TrialService(trial_id=t2, customer_id=customer, service="MEETINGS", holds=True))
    async with sessionmaker() as db, db.begin():  # a released one does not hold
        db.add(TrialService(trial_id=t2, customer_id=customer, service="MEETINGS", holds=False))


async def test_database_refuses_a_site_url_twice(sessionmaker):
    customer, t1, t2 = await _arrange(sessionmaker)
    async with sessionmaker() as db, db.begin():
        db.add(TrialService(trial_id=t1, customer_id=customer, service="MEETINGS", site_url="acme.webex.com"))
    with pytest.raises(IntegrityError):
        async with sessionmaker() as db, db.begin():
            db.add(TrialService(trial_id=t2, customer_id=customer, service="MESSAGING", site_url="acme.webex.com",
                                holds=False))


async def test_database_refuses_two_shipments_of_one_device_type(sessionmaker):
    customer, t1, _ = await _arrange(sessionmaker)
    row = dict(trial_id=t1, customer_id=customer, device_type="PHONE", model="Cisco Desk Phone 9841", quantity=1,
               status="REQUESTED", country="NO", created_at=clock.now())
    async with sessionmaker() as db, db.begin():
        db.add(Shipment(**row))
    with pytest.raises(IntegrityError):
        async with sessionmaker() as db, db.begin():
            db.add(Shipment(**row))


async def test_database_refuses_a_live_number_twice_but_allows_reuse_after_release(sessionmaker):
    customer, _, _ = await _arrange(sessionmaker)
    row = dict(e164="+4722000000", customer_id=customer, status="ASSIGNED", created_at=clock.now())
    async with sessionmaker() as db, db.begin():
        first = PhoneNumber(**row)
        db.add(first)
    with pytest.raises(IntegrityError):
        async with sessionmaker() as db, db.begin():
            db.add(PhoneNumber(**row))
    async with sessionmaker() as db, db.begin():
        (await db.get(PhoneNumber, first.id)).status = "RELEASED"
    async with sessionmaker() as db, db.begin():
        db.add(PhoneNumber(**row))


async def test_home_sends_each_signed_in_visitor_to_their_start_page(client, sessionmaker):
    from server.enums import Role
    from tests.factories import login, partner_team

    team = await partner_team(sessionmaker)
    await login(client, team.emails[Role.READ_ONLY], team.password)
    home = await client.get("/")  # partner staff start on their home page (issue 18)
    assert home.status_code == 200 and "Needs your attention" in home.text
