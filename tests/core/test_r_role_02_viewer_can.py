"""R-ROLE-02: `Trial.viewerCan` says what the mutations allow — for every role, multi-role users,
a tier-2 partner and a customer admin, on a trial in every state of its own and of a colleague's
customer. Each answer is compared with trying the mutation's domain call (rolled back): allowed
unless it is refused with FORBIDDEN, NOT_FOUND, INVALID_STATE or CONTACT_DISTRIBUTOR (another
userError, e.g. a provisioning email that belongs to nobody, means the viewer may). On PostgreSQL
the planner's answer is held equal to the reference path's as well.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from server import clock
from server.db.models import ConsentRequest, Trial, TrialService
from server.domain.consent import requests as consent
from server.domain.core.actor import Actor, ActorKind
from server.domain.core.errors import DomainError
from server.domain.orgs import directory
from server.domain.trials import changes, conversion
from server.enums import PartnerTier, Role, ServiceType
from server.schema.node import to_global_id
from tests.helpers import both_paths

STATES = ("PENDING_CONSENT", "PENDING_PROVISIONING", "ACTIVE", "EXPIRED", "CONVERTED", "CANCELLED", "RELEASED")
REFUSED = {"FORBIDDEN", "NOT_FOUND", "INVALID_STATE", "CONTACT_DISTRIBUTOR"}
QUERY = "query($id: ID!) { trial(id: $id) { id viewerCan { extend cancel convert edit manage } } }"
_n = itertools.count(1)
#: 11 viewers x 21 trials x 5 tries, each its own rolled-back transaction: ~100 s on an idle machine
pytestmark = pytest.mark.timeout(600)


async def _partner(db, name: str, tier: PartnerTier, roles: list[Role]) -> tuple[int, dict[Role, int]]:
    partner = await directory.create_partner(db, name, tier=tier)
    users = {}
    for role in roles:
        user = await directory.create_user(db, f"{role.value.lower()}.{next(_n)}@{name.lower()}.example", [role],
                                           partner_id=partner.id, password="correct horse battery staple")
        users[role] = user.id
    return partner.id, users


async def _trials(db, partner_id: int, starter: int, customer_id: int) -> dict[str, int]:
    now = clock.now()
    found = {}
    for state in STATES:
        trial = Trial(customer_id=customer_id, partner_id=partner_id, started_by_user_id=starter, kind="NEW_CUSTOMER",
                      state=state, license_count=10, duration_days=30, starts_at=now - timedelta(days=5),
                      ends_at=now + timedelta(days=25), grace_ends_at=now + timedelta(days=55), version=1,
                      created_at=now)
        db.add(trial)
        await db.flush()
        db.add(TrialService(trial_id=trial.id, customer_id=customer_id, holds=False, service="MESSAGING",
                            license_count=10))
        if state == "PENDING_CONSENT":
            db.add(ConsentRequest(trial_id=trial.id, customer_id=customer_id, partner_id=partner_id,
                                  admin_email="it@own.example", status="PENDING", nonce="n", expires_at=now + timedelta(days=30),
                                  created_at=now))
        found[state] = trial.id
    return found


async def _arrange(sessionmaker):
    async with sessionmaker() as db, db.begin():
        alpha, users = await _partner(db, "Alpha", PartnerTier.TIER1, [
            Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN, Role.SALES_FULL_ADMIN, Role.SALES_ADMIN, Role.READ_ONLY])
        tier2, tier2_users = await _partner(db, "Second", PartnerTier.TIER2, [Role.PARTNER_FULL_ADMIN])
        own = await directory.create_customer(db, "Own Inc", "NO", "it@own.example", managed_by=alpha)
        colleague = await directory.create_customer(db, "Colleague Inc", "NO", "it@colleague.example", managed_by=alpha)
        small = await directory.create_customer(db, "Small Inc", "NO", "it@small.example", managed_by=tier2)
        await db.flush()
        trials = {"own": await _trials(db, alpha, users[Role.SALES_ADMIN], own.id),
                  "colleague": await _trials(db, alpha, users[Role.SALES_FULL_ADMIN], colleague.id),
                  "tier2": await _trials(db, tier2, tier2_users[Role.PARTNER_FULL_ADMIN], small.id)}
    sales = users[Role.SALES_ADMIN]

    def partner(roles: set[Role], user: int, partner_id: int = alpha) -> Actor:
        return Actor(kind=ActorKind.PARTNER_USER, user_id=user, partner_id=partner_id, roles=frozenset(roles),
                     email=f"u{user}@alpha.example")

    actors = {role.value: partner({role}, users[role]) for role in users}
    actors |= {
        "SALES_ADMIN+READ_ONLY": partner({Role.SALES_ADMIN, Role.READ_ONLY}, sales),
        "PARTNER_ADMIN+SALES_ADMIN": partner({Role.PARTNER_ADMIN, Role.SALES_ADMIN}, sales),
        "READ_ONLY+SALES_FULL_ADMIN": partner({Role.READ_ONLY, Role.SALES_FULL_ADMIN}, users[Role.READ_ONLY]),
        "TIER2_FULL_ADMIN": partner({Role.PARTNER_FULL_ADMIN}, tier2_users[Role.PARTNER_FULL_ADMIN], tier2),
        "CUSTOMER_ADMIN": Actor(kind=ActorKind.CUSTOMER_ADMIN, email="it@own.example", customer_id=own.id,
                                customer_user_id=1, customer_full_admin=True),
    }
    return trials, actors


async def _tries(sessionmaker, settings, actor: Actor, trial_id: int) -> dict[str, bool]:
    """Each mutation's domain call, rolled back: did it get past permission and state?"""
    async def attempt(call) -> bool:
        async with sessionmaker() as db:
            await db.begin()
            try:
                await call(db)
                return True
            except DomainError as error:
                return error.code.value not in REFUSED
            finally:
                await db.rollback()

    async def edit(db):
        trial = await db.get(Trial, trial_id)
        await changes.update_trial(db, actor, trial_id, trial.version, license_count=trial.license_count + 1, add=[],
                                   remove=[], max_licenses=1000)

    return {
        "extend": await attempt(lambda db: changes.extend_trial(db, actor, trial_id, 30)),
        "cancel": await attempt(lambda db: changes.cancel_trial(db, actor, trial_id)),
        "convert": await attempt(lambda db: conversion.convert_trial(
            db, actor, trial_id, order_number="PO-1", provisioning_email="nobody@nowhere.example",
            services=[ServiceType.MESSAGING], confirm_omitted=True)),
        "edit": await attempt(edit),
        # resending the consent email: the manage permission (in any state it is a manage action)
        "manage": await attempt(lambda db: consent.resend(db, actor, trial_id, settings=settings)),
    }


async def _read(app, actor: Actor, trial_id: int) -> dict | None:
    state = app.state
    body, planned, _ = await both_paths(state, state.planner, state.documents, actor, QUERY,
                                        {"id": to_global_id("Trial", trial_id)}, None) if state.planner else \
        (await _reference(app, actor, trial_id),) * 2 + (None,)
    assert planned == body, (actor, trial_id)
    trial = (body.get("data") or {}).get("trial")
    return trial["viewerCan"] if trial else None


async def _reference(app, actor: Actor, trial_id: int) -> dict:
    from server import graphql_http
    from server.schema.context import Context

    state = app.state
    context = Context(sessionmaker=state.sessionmaker, settings=state.settings, actor=actor)
    try:
        _, body, _ = await graphql_http.run(state.documents.schema, state.documents, context, QUERY,
                                            {"id": to_global_id("Trial", trial_id)}, None, expose_errors=True)
    finally:
        await context.close()
    return body


async def test_r_role_02_viewer_can_is_what_the_mutations_allow(app, sessionmaker):
    """Kills: viewerCan asking the roles alone (SALES_ADMIN + READ_ONLY on a colleague's customer),
    forgetting the state machine (extend a CONVERTED trial), the tier rule (a tier-2 partner's
    convert) or a partner's withdraw of a request pending consent."""
    trials, actors = await _arrange(sessionmaker)
    seen = {action: set() for action in ("extend", "cancel", "convert", "edit", "manage")}
    for name, actor in actors.items():
        for customer, by_state in trials.items():
            for trial_state, trial_id in by_state.items():
                can = await _read(app, actor, trial_id)
                if can is None:  # out of sight: no trial, and every mutation answers NOT_FOUND
                    if trial_state != "ACTIVE":  # one state is enough to show it (and spares the machine)
                        continue
                    tried = await _tries(sessionmaker, app.state.settings, actor, trial_id)
                    assert not any(tried.values()), (name, customer, trial_state, tried)
                    continue
                if trial_state != "PENDING_CONSENT":  # resend: only a request pending consent has an email to send
                    can.pop("manage")
                tried = await _tries(sessionmaker, app.state.settings, actor, trial_id)
                tried = {k: v for k, v in tried.items() if k in can}
                assert can == tried, (name, customer, trial_state)
                for action, value in can.items():
                    seen[action].add(value)
    assert all(values == {True, False} for values in seen.values()), seen
