"""Issue 10: the compiled CustomersPage (server.compiled) answers exactly like field-by-field
Strawberry execution, for every role, over several partners' data: empty lists, nulls, "own
customers", another partner's customers, pagination edges, search and status filters.

The compiled runner may hand a request back (None) only where the reference path answers an error;
every other answer must be the same JSON, byte for byte. PostgreSQL only: the embedded default
(SQLite) has no compiled runners.
"""
from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from server import clock, compiled, graphql_http
from server.compiled import customers_page
from server.db.models import PartnerAccessGrant
from server.db.models.trials import Trial, TrialService
from server.domain import directory
from server.domain.actor import ANONYMOUS, Actor, ActorKind
from server.enums import Role, ServiceType
from server.pages.operations import read_operations
from server.schema.context import Context
from tests import factories

TEXT = read_operations()["CustomersPage"]
STATUSES = ["TRIAL_ACTIVE", "TRIAL_EXPIRING_30", "TRIAL_EXPIRING_60", "TRIAL_EXPIRED", "PENDING_CONSENT",
            "PENDING_PROVISIONING", "ACTIVE", "SUSPENDED"]


@pytest.fixture
def postgres(app):
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("compiled operations run on PostgreSQL only; SQLite keeps the reference path")
    return app


def test_document_is_the_verified_one():
    """An edited CustomersPage.graphql is not compiled any more: re-verify the runner, then re-pin."""
    assert compiled.sha256(TEXT) == customers_page.DOCUMENT_SHA256
    assert set(compiled.for_app("postgresql", read_operations())) == {"CustomersPage"}
    assert compiled.for_app("sqlite", read_operations()) == {}
    assert compiled.for_app("postgresql", {"CustomersPage": TEXT + " "}) == {}


def test_registered_at_start_up(postgres):
    assert set(postgres.state.compiled_operations) == {"CustomersPage"}


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


async def _both(app, actor, variables):
    state = app.state
    ctx = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor)
    _, body, _ = await graphql_http.run(state.graphql_schema, state.documents, ctx, TEXT, variables, "CustomersPage",
                                        expose_errors=True)
    ctx = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor)
    try:
        data = await customers_page.run(ctx, variables)
    finally:
        await ctx.close()
    if data is None:
        assert body.get("errors"), f"compiled handed back a request the reference answers: {actor} {variables}"
    else:
        assert "errors" not in body, body
        assert orjson.dumps(data) == orjson.dumps(body["data"]), (actor, variables)
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


async def test_the_page_uses_it(postgres, client, sessionmaker, monkeypatch):
    """/customers renders from the compiled runner (and the same HTML as the reference path)."""
    a, *_ = await _arrange(sessionmaker)
    await factories.login(client, a.emails[Role.SALES_ADMIN], a.password)
    calls = []
    runner = postgres.state.compiled_operations["CustomersPage"]

    async def counting(context, variables):
        calls.append(variables)
        return await runner(context, variables)

    monkeypatch.setitem(postgres.state.compiled_operations, "CustomersPage", counting)
    compiled_html = (await client.get("/customers")).text
    assert calls
    monkeypatch.delitem(postgres.state.compiled_operations, "CustomersPage")
    reference_html = (await client.get("/customers")).text
    strip = lambda html: "\n".join(l for l in html.splitlines() if "csrf" not in l)  # noqa: E731
    assert strip(compiled_html) == strip(reference_html)
    assert "Acme" in compiled_html
