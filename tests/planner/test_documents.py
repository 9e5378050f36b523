"""Issue 15 (was issue 10's runners): the read planner answers the stored page documents
CustomersPage, CustomerPage and CustomerHistory exactly like field-by-field Strawberry execution, for
every role, over several partners' data: empty lists, nulls, "own customers", another partner's
customers, pagination edges, search and status filters; for the detail page every customer in the
database (with nothing, with everything, another partner's, one pending consent, one nobody manages)
and IDs that are malformed, of another type or not strings. A planner whose scope builder leaks
another tenant's rows fails the comparison (test_a_leaking_scope_is_caught).

The planner may hand a request back (None) only where the reference path answers an error; every
other answer must be the same JSON, byte for byte. PostgreSQL only: the embedded default (SQLite)
keeps the reference path. Random queries beyond these documents: tests/planner/test_property.py.
"""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import orjson
import pytest
from sqlalchemy import bindparam, select

from graphql import get_operation_ast

from server import clock
from server.db.models import (
    AuditEvent, CustomerOrg, DeviceExtensionRequest, Location, PartnerAccessGrant, PhoneNumber, Shipment, ShipmentItem,
)
from server.db.models.trials import Trial, TrialService
from server.schema.node import to_global_id
from server.domain.orgs import directory
from server.domain.core import visibility
from server.domain.core.actor import ANONYMOUS, Actor, ActorKind
from server.enums import Role, ServiceType
from server.pages.operations import read_operations
from server.planner import declare
from server.planner.execute import Prepared, Text, one_row
from server.planner.run import Planner
from server.schema.context import Context
from tests import factories
from tests.helpers import both_paths

TEXT = read_operations()["CustomersPage"]
DETAIL = read_operations()["CustomerPage"]
HISTORY = read_operations()["CustomerHistory"]
PLANNED = {"CustomersPage": TEXT, "CustomerPage": DETAIL, "CustomerHistory": HISTORY}
STATUSES = ["TRIAL_ACTIVE", "TRIAL_EXPIRING_30", "TRIAL_EXPIRING_60", "TRIAL_EXPIRED", "PENDING_CONSENT",
            "PENDING_PROVISIONING", "ACTIVE", "SUSPENDED", "RELEASED"]



def test_sqlite_keeps_the_reference_path(app):
    assert (app.state.planner is None) == (app.state.engine.dialect.name != "postgresql")


def test_the_stored_documents_are_plannable(postgres):
    planner = postgres.state.planner
    for name, text in PLANNED.items():
        document, errors = postgres.state.documents.get(text)
        assert planner.accepts(text, name, document, get_operation_ast(document, name)), name


async def _arrange(sessionmaker):
    a = await factories.partner_team(sessionmaker, "Alpha")
    b = await factories.partner_team(sessionmaker, "Beta")
    c = await factories.partner_team(sessionmaker, "Gamma")  # no customers at all
    now = clock.now()
    sales = a.user_ids[Role.SALES_ADMIN]
    full = a.user_ids[Role.SALES_FULL_ADMIN]
    async with sessionmaker() as db, db.begin():
        def customer(name, email, managed_by, **kw):
            return directory.create_customer(db, name, "NO", email, managed_by=managed_by, **kw)

        def trial(cust, partner, state, ends_at, services=("MEETINGS",), by=None, removed=()):
            t = Trial(customer_id=cust.id, partner_id=partner, started_by_user_id=by, kind="EXISTING_CUSTOMER",
                      state=state, license_count=10, duration_days=90, starts_at=now - timedelta(days=5),
                      ends_at=ends_at, created_at=now)
            db.add(t)
            return t, list(services), list(removed)

        made = []
        acme = await customer("Acme", "admin@acme.example", a.partner_id)
        made.append(trial(acme, a.partner_id, "ACTIVE", now + timedelta(days=10, hours=3), ("MEETINGS", "CALLING"),
                          by=sales, removed=("DEVICES",)))
        acme2 = await customer("ACME", "second@acme.example", a.partner_id)  # same sort key: ties break on id
        made.append(trial(acme2, a.partner_id, "ACTIVE", (now + timedelta(days=45)).replace(microsecond=0), by=full))
        made.append(trial(acme2, a.partner_id, "EXPIRED", now - timedelta(days=2), ("CALLING", "MESSAGING")))
        made.append(trial(acme2, b.partner_id, "PENDING_CONSENT", None))  # Beta's: invisible to Alpha
        long = await customer("Longrun", "it@longrun.example", a.partner_id)
        made.append(trial(long, a.partner_id, "ACTIVE", now + timedelta(days=100, minutes=7), ()))
        null_end = await customer("Nullend", "x@nullend.example", a.partner_id)
        made.append(trial(null_end, a.partner_id, "ACTIVE", None))
        prov = await customer("Provisioning Co", "p@prov.example", a.partner_id)
        made.append(trial(prov, a.partner_id, "PENDING_PROVISIONING", None, by=sales))
        made.append(trial(prov, a.partner_id, "CANCELLED", now - timedelta(days=40)))
        expired = await customer("Expired AS", "e@expired.example", a.partner_id)
        made.append(trial(expired, a.partner_id, "EXPIRED", now - timedelta(days=1, seconds=1), ("MEETINGS",)))
        made.append(trial(expired, a.partner_id, "CONVERTED", now - timedelta(days=300)))
        await customer("Paid Only", "paid@only.example", a.partner_id, purchased=[ServiceType.MESSAGING])  # no trials
        suspended = await customer("Suspended", "s@suspended.example", a.partner_id)
        suspended.subscription_status = "SUSPENDED"
        # Released whole after grace (R-TIME-05): no grant, no managing partner, still Alpha's to read.
        released = await customer("Released AS", "r@released.example", None)
        released.subscription_status = "RELEASED"
        made.append(trial(released, a.partner_id, "RELEASED", now - timedelta(days=31), ("MEETINGS",), by=sales))
        # Beta's customers: one Alpha may administer (grant), one Alpha asked for consent on, one not Alpha's.
        granted = await customer("Granted Beta", "g@granted.example", b.partner_id)
        db.add(PartnerAccessGrant(customer_id=granted.id, partner_id=a.partner_id, access="FULL_ADMIN", granted_at=now))
        made.append(trial(granted, b.partner_id, "ACTIVE", now + timedelta(days=20)))
        asked = await customer("Asked Beta", "a@asked.example", b.partner_id)
        made.append(trial(asked, a.partner_id, "PENDING_CONSENT", None, by=sales))
        made.append(trial(asked, b.partner_id, "ACTIVE", now + timedelta(days=70)))
        for i in range(4):
            await customer(f"beta only {i}", f"b{i}@beta.example", b.partner_id)
        await db.flush()
        for t, services, removed in made:
            for service in services:
                db.add(TrialService(trial_id=t.id, customer_id=t.customer_id, service=service, holds=False))
            for service in removed:
                db.add(TrialService(trial_id=t.id, customer_id=t.customer_id, service=service, holds=False,
                                    removed_at=now))
        for (t, *_), kind, state in ((made[0], "PHONE", "SHIPPED"), (made[0], "HEADSET", "RETURNED"),
                                     (made[2], "PHONE", "OVERDUE"), (made[3], "ROOM_DEVICE", "REQUESTED")):
            db.add(Shipment(trial_id=t.id, customer_id=t.customer_id, device_type=kind, model=f"{kind} model",
                            quantity=1, status=state, country="NO", created_at=now))  # made[3]: Beta's
    return a, b, c, acme.id


def _actors(a, b, c, customer_id):
    actors = []
    for team in (a, b, c):
        for role, user_id in team.user_ids.items():
            actors.append(Actor(kind=ActorKind.PARTNER_USER, user_id=user_id, partner_id=team.partner_id,
                                roles=frozenset({role}), email=team.emails[role]))
    sales = a.user_ids[Role.SALES_ADMIN]
    actors.append(Actor(kind=ActorKind.API_TOKEN, user_id=sales, partner_id=a.partner_id,
                        roles=frozenset({Role.SALES_ADMIN}), token_id=1))
    actors.append(Actor(kind=ActorKind.PARTNER_USER, user_id=sales, partner_id=a.partner_id,
                        roles=frozenset({Role.SALES_ADMIN, Role.READ_ONLY}), email="two@roles.example"))
    actors.append(Actor(kind=ActorKind.TRIALS_TEAM, user_id=None, roles=frozenset({Role.TRIALS_TEAM}),
                        email="trials@platform.example"))
    actors.append(Actor(kind=ActorKind.CUSTOMER_ADMIN, email="admin@acme.example", customer_id=customer_id,
                        customer_user_id=1, customer_full_admin=True))
    actors.append(ANONYMOUS)
    return actors


async def _both(app, actor, variables, text=TEXT, name="CustomersPage", planner=None):
    """The stored documents declare every field: the planner answers all of it, or hands back (whole
    or a root field) only what the reference answers with an error; the answers are the same bytes."""
    state = app.state
    body, planned, answer = await both_paths(state, planner or state.planner, state.documents, actor, text,
                                             variables, name)
    if answer is None or not answer.complete:
        assert body.get("errors"), f"the planner handed back a request the reference answers: {actor} {variables}"
    assert orjson.dumps(planned) == orjson.dumps(body), (actor, variables)
    return body.get("data")


async def test_every_role_every_filter_every_page(postgres, sessionmaker):
    a, b, c, customer_id = await _arrange(sessionmaker)
    answered = 0
    for actor in _actors(a, b, c, customer_id):
        cases = [{}, {"first": None}, {"first": 0}, {"first": 1}, {"first": 100}, {"first": 101}, {"first": -1},
                 {"search": "acme"}, {"search": "ADMIN@"}, {"search": "  "}, {"search": "no such"},
                 {"search": "%"}, {"after": "not-a-cursor"}, {"first": "3"},
                 *({"status": s} for s in STATUSES), {"status": "TRIAL_ACTIVE", "search": "beta"}]
        for variables in cases:
            data = await _both(postgres, actor, variables)
            answered += data is not None and data.get("customers") is not None
        for first, extra in ((1, {}), (2, {}), (3, {"search": "e"}), (2, {"status": "TRIAL_EXPIRING_60"})):
            after = None
            for _ in range(30):  # walk every page to the last (hasNextPage false, empty tails)
                data = await _both(postgres, actor, {"first": first, "after": after, **extra})
                if data is None or data.get("customers") is None:
                    break
                page = data["customers"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
    assert answered > 100


async def test_the_page_uses_it(postgres, client, sessionmaker):
    """/customers renders from the planner (and the same HTML as the reference path)."""
    a, *_ = await _arrange(sessionmaker)
    await factories.login(client, a.emails[Role.SALES_ADMIN], a.password)
    planner = postgres.state.planner
    before = planner.planned["CustomersPage"]
    planned_html = (await client.get("/customers")).text
    assert planner.planned["CustomersPage"] == before + 1
    postgres.state.planner = None
    try:
        reference_html = (await client.get("/customers")).text
    finally:
        postgres.state.planner = planner
    strip = lambda html: "\n".join(l for l in html.splitlines() if "csrf" not in l)  # noqa: E731
    assert strip(planned_html) == strip(reference_html)
    assert "Acme" in planned_html and "Phones <span" in planned_html and "Headsets" not in planned_html


async def _arrange_detail(sessionmaker):
    """`_arrange`'s partners and customers, plus a customer with everything the detail page shows (both
    Alpha's and Beta's trials, options, shipments with items, extension requests, locations with
    numbers, a grant for Beta, a provisioning error) and one that no partner manages."""
    a, b, c, acme_id = await _arrange(sessionmaker)
    now = clock.now()
    async with sessionmaker() as db, db.begin():
        full = await directory.create_customer(db, "Everything Inc", "US", "it@everything.example",
                                               managed_by=a.partner_id, purchased=[ServiceType.MESSAGING,
                                                                                   ServiceType.CALLING])
        full.provisioning_status, full.provisioning_error = "UNABLE_TO_PROVISION", "The site URL is taken."
        nobody = await directory.create_customer(db, "Nobody's", "JP", "x@nobody.example")
        db.add(PartnerAccessGrant(customer_id=full.id, partner_id=b.partner_id, access="PROVISIONING_ADMIN",
                                  granted_at=now))
        mine = Trial(customer_id=full.id, partner_id=a.partner_id, started_by_user_id=a.user_ids[Role.SALES_ADMIN],
                     kind="NEW_CUSTOMER", state="ACTIVE", license_count=25, duration_days=60,
                     starts_at=now - timedelta(days=3, microseconds=-17), ends_at=now + timedelta(days=57, hours=2),
                     grace_ends_at=now + timedelta(days=87), version=4, created_at=now)
        ended = Trial(customer_id=full.id, partner_id=a.partner_id, kind="NEW_CUSTOMER", state="EXPIRED",
                      license_count=5, duration_days=30, starts_at=(now - timedelta(days=40)).replace(microsecond=0),
                      ends_at=now - timedelta(days=10), grace_ends_at=now + timedelta(days=20), created_at=now)
        theirs = Trial(customer_id=full.id, partner_id=b.partner_id, kind="EXISTING_CUSTOMER", state="ACTIVE",
                       license_count=7, duration_days=90, starts_at=now, ends_at=now + timedelta(days=5),
                       created_at=now)
        db.add_all([mine, ended, theirs])
        await db.flush()
        db.add_all([
            TrialService(trial_id=mine.id, customer_id=full.id, holds=False, service="MEETINGS", license_count=25,
                         meetings_edition="ENTERPRISE", site_url="everything.example.com", time_zone="America/Denver",
                         meetings_features=["WEBEX_ASSISTANT", "MEETINGS_1000"]),
            TrialService(trial_id=mine.id, customer_id=full.id, holds=False, service="CALLING", license_count=None,
                         pstn="PARTNER_DIDS"),
            TrialService(trial_id=mine.id, customer_id=full.id, holds=False, service="DEVICES"),
            TrialService(trial_id=mine.id, customer_id=full.id, holds=False, service="MESSAGING", removed_at=now),
            TrialService(trial_id=ended.id, customer_id=full.id, holds=False, service="MEETINGS"),  # edition null → BASIC
            TrialService(trial_id=ended.id, customer_id=full.id, holds=False, service="CALLING"),  # pstn null → CCP
            TrialService(trial_id=theirs.id, customer_id=full.id, holds=False, service="MESSAGING", license_count=7),
        ])
        phones = Shipment(trial_id=mine.id, customer_id=full.id, device_type="PHONE", model="Cisco 8845", quantity=2,
                          status="SHIPPED", demo_order_number="DO-1", country="US", carrier="UPS",
                          shipped_on=now.date(), due_date=now.date() + timedelta(days=60),
                          return_by=now.date() + timedelta(days=74), return_labels_requested=2, created_at=now)
        heads = Shipment(trial_id=mine.id, customer_id=full.id, device_type="HEADSET", model="Cisco Headset 730",
                         quantity=1, status="REQUESTED", country="JP", created_at=now, address_line1="1-1 Marunouchi",
                         address_city="Chiyoda", address_postal_code="100-0005", address_region="JP-13",
                         contact_name="Aiko Sato", contact_phone="+81312345678")  # R-DEV-02: a delivery
        hidden = Shipment(trial_id=theirs.id, customer_id=full.id, device_type="PHONE", model="Beta's phone",
                          quantity=1, status="DELIVERED", country="US", demo_order_number="BETA-9", created_at=now)
        db.add_all([phones, heads, hidden])
        await db.flush()
        db.add_all([ShipmentItem(shipment_id=phones.id, model="Cisco 8845", serial_number="FCH1"),
                    ShipmentItem(shipment_id=phones.id, model="Cisco 8845", serial_number=None),
                    ShipmentItem(shipment_id=hidden.id, model="Beta's phone", serial_number="BETA-SN")])
        db.add_all([DeviceExtensionRequest(trial_id=mine.id, days=30, reason="Pilot runs late", status="PENDING",
                                           created_at=now),
                    DeviceExtensionRequest(trial_id=mine.id, days=15, status="APPROVED", note="ok", created_at=now),
                    DeviceExtensionRequest(trial_id=theirs.id, days=10, reason="Beta's", status="DENIED",
                                           created_at=now)])
        oslo = Location(customer_id=full.id, name="Oslo", line1="Gate 1", city="Oslo", postal_code="0150",
                        country="NO", time_zone="Europe/Oslo", created_at=now)
        bergen = Location(customer_id=full.id, name="Bergen", line1="Gate 2", city="Bergen", postal_code="5003",
                          country="NO", time_zone="Europe/Oslo", created_at=now)
        db.add_all([oslo, bergen])
        await db.flush()
        db.add_all([PhoneNumber(e164="+4722000002", customer_id=full.id, location_id=oslo.id, status="ASSIGNED",
                                created_at=now),
                    PhoneNumber(e164="+4722000001", customer_id=full.id, location_id=oslo.id, status="RELEASED",
                                release_at=now + timedelta(days=3), created_at=now),
                    PhoneNumber(e164="+4722000003", customer_id=full.id, location_id=None, status="RESERVED",
                                created_at=now)])
        at = now - timedelta(hours=1)
        for when, partner, action in ((at, None, "customer.created"), (at, a.partner_id, "trial.started"),
                                      (at.replace(microsecond=0), b.partner_id, "trial.started"),
                                      (now, a.partner_id, "shipment.requested"), (now, None, "trial.provisioned"),
                                      (now - timedelta(days=2), b.partner_id, "partner_access.granted")):
            for customer_id in (full.id, acme_id):
                db.add(AuditEvent(at=when, actor=f"partner:{partner}", action=action, subject_type="Trial",
                                  subject_id=mine.id, partner_id=partner, customer_id=customer_id))
        await db.flush()
        names = dict((await db.execute(select(CustomerOrg.name, CustomerOrg.id))).all())
    return a, b, c, acme_id, full.id, mine.id, names


def _detail_actors(a, b, c, acme_id, full_id):
    actors = _actors(a, b, c, acme_id)
    actors.append(Actor(kind=ActorKind.CUSTOMER_ADMIN, email="it@everything.example", customer_id=full_id,
                        customer_user_id=2, customer_full_admin=True))
    return actors


async def test_customer_detail_every_role_every_customer(postgres, sessionmaker):
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    good = [to_global_id("Customer", pk) for pk in sorted(names.values())]
    bad = [to_global_id("Trial", trial_id), to_global_id("Customer", 10**12), "not-an-id", "", "Q3VzdG9tZXI6",
           to_global_id("Customer", "x"), to_global_id("Customer", 2**70), 5, None]
    seen, empty, rich = 0, 0, 0
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for global_id in good + bad:
            variables = {"id": global_id} if global_id is not None else {}
            data = await _both(postgres, actor, variables, DETAIL, "CustomerPage")
            customer = (data or {}).get("customer")
            seen += customer is not None
            empty += data is not None and customer is None
            rich += customer is not None and any(t["shipments"] for t in customer["trials"])
    assert seen > 50 and empty > 100 and rich >= 5


async def test_customer_history_every_role_every_customer(postgres, sessionmaker):
    a, b, c, acme_id, full_id, trial_id, names = await _arrange_detail(sessionmaker)
    good = [to_global_id("Customer", pk) for pk in sorted(names.values())]
    bad = [to_global_id("Trial", trial_id), to_global_id("Customer", 10**12), "not-an-id", "", 5, None,
           to_global_id("Customer", 2**70)]
    seen = 0
    for actor in _detail_actors(a, b, c, acme_id, full_id):
        for global_id in good + bad:
            variables = {"id": global_id} if global_id is not None else {}
            data = await _both(postgres, actor, variables, HISTORY, "CustomerHistory")
            seen += bool(data and data["auditEvents"])
    assert seen > 20


async def test_a_leaking_scope_is_caught(postgres, sessionmaker, monkeypatch):
    """Break a scope builder on purpose, in the planner's declarations only (every trial, every customer
    in reach): the comparison with the reference path must fail."""
    from sqlalchemy import true

    from server.schema.types import customers as customer_types

    a, b, c, acme_id, full_id, _, names = await _arrange_detail(sessionmaker)
    alpha = Actor(kind=ActorKind.PARTNER_USER, user_id=a.user_ids[Role.READ_ONLY], partner_id=a.partner_id,
                  roles=frozenset({Role.READ_ONLY}), email=a.emails[Role.READ_ONLY])
    leaky = SimpleNamespace(**{**vars(visibility), "trial_condition": lambda *args, **kw: true()})
    everyone = lambda *args, **kw: true()  # noqa: E731
    beta_only = to_global_id("Customer", names["beta only 0"])
    cases = [
        (lambda patch: patch.setattr(customer_types, "visibility", leaky), {"id": to_global_id("Customer", full_id)},
         DETAIL, "CustomerPage"),
        (lambda patch: patch.setattr(declare.ROOTS["customer"], "condition", everyone), {"id": beta_only},
         DETAIL, "CustomerPage"),
        (lambda patch: patch.setattr(declare.ROOTS["auditEvents"], "visible", lambda actor, pk: select(
            CustomerOrg.id).where(CustomerOrg.id == pk)), {"id": beta_only}, HISTORY, "CustomerHistory"),
        (lambda patch: patch.setattr(customer_types, "visibility", leaky), {"search": "acme"}, TEXT, "CustomersPage"),
    ]
    for breaks, variables, text, name in cases:
        with monkeypatch.context() as patch:
            breaks(patch)
            with pytest.raises(AssertionError):
                await _both(postgres, alpha, variables, text, name, Planner(postgres.state.graphql_schema))
        await _both(postgres, alpha, variables, text, name, Planner(postgres.state.graphql_schema))


async def test_the_detail_page_uses_it(postgres, client, sessionmaker):
    """/customers/{id} renders from the planner (and the same HTML as the reference path)."""
    a, b, c, acme_id, full_id, *_ = await _arrange_detail(sessionmaker)
    await factories.login(client, a.emails[Role.PARTNER_ADMIN], a.password)
    planner = postgres.state.planner
    url = f"/customers/{to_global_id('Customer', full_id)}"
    before = planner.planned.copy()
    planned_html = (await client.get(url)).text
    assert planner.planned - before == {"CustomerPage": 1, "CustomerHistory": 1, "CustomerUsage": 1, "CallingOptions": 1,
                                        "CallingRequirement": 1}
    postgres.state.planner = None
    try:
        reference_html = (await client.get(url)).text
    finally:
        postgres.state.planner = planner
    strip = lambda html: "\n".join(l for l in html.splitlines() if "csrf" not in l)  # noqa: E731
    assert strip(planned_html) == strip(reference_html)
    assert "Everything Inc" in planned_html and "FCH1" in planned_html and "BETA-SN" not in planned_html
    assert "requested a device shipment" in planned_html  # Alpha's event, in words
    assert "granted the partner access" not in planned_html  # Beta's event


async def test_a_driver_error_is_run_again_through_sqlalchemy(postgres, sessionmaker):
    """A prepared statement the driver refuses (here: broken SQL text) still answers, through SQLAlchemy."""
    a, *_ = await _arrange(sessionmaker)
    actor = Actor(kind=ActorKind.PARTNER_USER, user_id=a.user_ids[Role.READ_ONLY], partner_id=a.partner_id,
                  roles=frozenset({Role.READ_ONLY}), email=a.emails[Role.READ_ONLY])
    prepared = Prepared(select(CustomerOrg.name).where(CustomerOrg.name == "Acme"))
    prepared.text = Text("SELECT broken FROM nowhere", (), {}, {})
    ctx = Context(sessionmaker=postgres.state.sessionmaker, settings=postgres.state.settings, actor=actor)
    try:
        assert tuple(await one_row(ctx, prepared)) == ("Acme",)
    finally:
        await ctx.close()


async def test_a_scope_with_in_values_runs_on_the_driver_as_prepared_text(postgres, sessionmaker):
    """A statement whose scope builder writes `state IN (...)` of fixed values (the customers reach:
    pending or released trials) is expanded once into numbered parameters and sent to the driver as
    text, not through SQLAlchemy's execution on every call (bench.postgraphile: ~0.45 ms CPU each)."""
    from sqlalchemy.dialects import postgresql

    from server.planner.execute import _text

    prepared = select(CustomerOrg.name).where(CustomerOrg.name.in_(["Acme", "Beta"]),
                                              CustomerOrg.id == bindparam("r0_id"))
    text = _text(prepared, postgresql.asyncpg.dialect())
    assert "POSTCOMPILE" not in text.sql and text.names[0] == "r0_id" and "r0_id" not in text.bound
    assert sorted(text.bound.values()) == ["Acme", "Beta"]
    a, *_ = await _arrange(sessionmaker)
    actor = Actor(kind=ActorKind.PARTNER_USER, user_id=a.user_ids[Role.READ_ONLY], partner_id=a.partner_id,
                  roles=frozenset({Role.READ_ONLY}), email=a.emails[Role.READ_ONLY])
    ctx = Context(sessionmaker=postgres.state.sessionmaker, settings=postgres.state.settings, actor=actor)
    try:
        statement = Prepared(select(CustomerOrg.name).where(CustomerOrg.name.in_(["Acme", "Nobody"])))
        assert tuple(await one_row(ctx, statement)) == ("Acme",)
        assert statement.text.sql and "POSTCOMPILE" not in statement.text.sql
    finally:
        await ctx.close()
