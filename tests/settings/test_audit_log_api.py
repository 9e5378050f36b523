"""R-AUDIT-01/02 over GraphQL and the worker: the partner's audit log, newest first in keyset pages,
with its people's sign-ins (succeeded and failed, with the client address), tokens, users, settings
and its customers' trial actions; filters; each role's reach; two years' retention."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jobs import retention
from jobs.runtime import Runtime
from server import clock
from server.db.models import AuditEvent
from server.enums import Role
from tests.factories import login, partner_team
from tests.helpers import gql
from tests.trials.conftest import START, new_customer_input
from tests.settings.kit import update

FULL = Role.PARTNER_FULL_ADMIN
LOG = """query($first: Int, $after: String, $filter: AuditLogFilter) { auditLog(first: $first, after: $after, filter: $filter) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { at actor action subjectType customer { id name } before after clientAddress } } } }"""
CREATE_TOKEN = """mutation($name: String!, $roles: [Role!]!) { createApiToken(name: $name, roles: $roles) {
  token apiToken { id } userErrors { code } } }"""
REVOKE_TOKEN = "mutation($id: ID!) { revokeApiToken(tokenId: $id) { userErrors { code } } }"


async def _log(client, token, **variables) -> dict:
    body = await gql(client, LOG, variables, token=token)
    assert "errors" not in body, body
    return body["data"]["auditLog"]


async def _all(client, token, first=3, **variables) -> list[dict]:
    nodes, after = [], None
    while True:
        page = await _log(client, token, first=first, after=after, **variables)
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def _start(client, team, email: str) -> dict:
    body = await gql(client, START, {"input": new_customer_input(companyName=f"Kunde {email[:4]}", adminEmail=email)},
                     token=team.tokens[Role.SALES_ADMIN])
    assert body["data"]["startTrial"]["userErrors"] == [], body
    return body["data"]["startTrial"]["trial"]


@pytest.fixture
async def team(sessionmaker):
    return await partner_team(sessionmaker)


async def test_r_audit_01_full_admin_reads_the_partners_events_newest_first_in_keyset_pages(client, team,
                                                                                           sessionmaker):
    other = await partner_team(sessionmaker)
    await _start(client, other, "admin@other-customer.example")
    trial = await _start(client, team, "admin@kunde-a.example")
    token = (await gql(client, CREATE_TOKEN, {"name": "CRM", "roles": ["PARTNER_FULL_ADMIN"]},
                       token=team.tokens[FULL]))["data"]["createApiToken"]
    await gql(client, REVOKE_TOKEN, {"id": token["apiToken"]["id"]}, token=team.tokens[FULL])
    await update(client, team.tokens[FULL], reminderDays=[14, 7])
    nodes = await _all(client, team.tokens[FULL], first=2)
    actions = [n["action"] for n in nodes]
    assert actions[:4] == ["settings.updated", "token.revoked", "token.created", "trial.started"]
    assert "customer.created" in actions and "user.created" in actions
    assert [n["at"] for n in nodes] == sorted((n["at"] for n in nodes), reverse=True)
    started = next(n for n in nodes if n["action"] == "trial.started")
    assert started["customer"]["name"] == "Kunde admi" and started["actor"].startswith("token:")
    assert not any("other-customer" in str(n) for n in nodes)            # nobody sees another partner's
    settings = nodes[0]
    assert settings["before"] == {"reminder_days": [7]} and settings["after"] == {"reminder_days": [14, 7]}
    page = await _log(client, team.tokens[FULL], first=2)
    async with sessionmaker() as db:
        expected = await db.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.partner_id == team.partner_id))
    assert page["totalCount"] == expected == len(nodes)
    assert trial["customer"]["id"] == started["customer"]["id"]


async def test_r_audit_01_sign_ins_succeeded_and_failed_with_the_client_address(client, team):
    email = team.emails[Role.SALES_ADMIN]
    anonymous = re.search(r'name="csrf-token" content="([^"]*)"', (await client.get("/login")).text).group(1)
    refused = await client.post("/login", data={"email": email, "password": "wrong", "csrf_token": anonymous})
    assert refused.status_code == 400
    await login(client, email)
    nodes = await _all(client, team.tokens[FULL], filter={"action": "session"})
    assert [(n["action"], n["actor"], n["clientAddress"]) for n in nodes] == [
        ("session.signed_in", f"partner_user:{email}", "127.0.0.1"),
        ("session.sign_in_failed", f"partner_user:{email}", "127.0.0.1")]
    assert nodes[1]["after"] == {"reason": "wrong_password"}


async def test_r_audit_01_filters_by_actor_action_customer_and_time(client, team, sessionmaker):
    first = await _start(client, team, "admin@kunde-b.example")
    await _start(client, team, "admin@kunde-c.example")
    await update(client, team.tokens[FULL], senderName="Nordlys")
    customer = first["customer"]["id"]
    by_customer = await _all(client, team.tokens[FULL], filter={"customerId": customer})
    assert {n["customer"]["id"] for n in by_customer} == {customer} and len(by_customer) == 2
    by_action = await _all(client, team.tokens[FULL], filter={"action": "trial"})
    assert [n["action"] for n in by_action] == ["trial.started", "trial.started"]
    assert await _all(client, team.tokens[FULL], filter={"action": "trial.started", "customerId": customer}) \
        == [n for n in by_customer if n["action"] == "trial.started"]
    full_admin = team.emails[FULL]
    by_actor = await _all(client, team.tokens[FULL], filter={"actor": full_admin.upper()})
    assert by_actor == []                                                  # the API token acted, not the person
    token_actor = by_action[0]["actor"]
    assert len(await _all(client, team.tokens[FULL], filter={"actor": token_actor})) == 4
    async with sessionmaker() as db:
        await clock.refresh(db)
        now = clock.now()
    assert await _all(client, team.tokens[FULL], filter={"since": (now + timedelta(minutes=1)).isoformat()}) == []
    assert await _all(client, team.tokens[FULL], filter={"until": (now - timedelta(days=1)).isoformat()}) == []
    # and each bound keeps what is on its side (kills `parameters`' "since" given as None, a survivor
    # of `make mutate`: `at >= NULL` would keep nothing)
    everything = await _all(client, team.tokens[FULL])
    assert await _all(client, team.tokens[FULL], filter={"since": (now - timedelta(days=1)).isoformat()}) == everything
    assert await _all(client, team.tokens[FULL], filter={"until": (now + timedelta(days=1)).isoformat()}) == everything
    assert await _all(client, team.tokens[FULL], filter={"customerId": "not-an-id"}) == []


async def test_r_audit_01_other_roles_see_the_events_of_the_customers_they_view(client, sessionmaker):
    team = await partner_team(sessionmaker)
    mine = await _start(client, team, "admin@kunde-d.example")             # started by the sales admin
    body = await gql(client, START, {"input": new_customer_input(adminEmail="admin@kunde-e.example")},
                     token=team.tokens[Role.SALES_FULL_ADMIN])
    theirs = body["data"]["startTrial"]["trial"]
    await update(client, team.tokens[FULL], senderName="Nordlys")
    sales = await _all(client, team.tokens[Role.SALES_ADMIN])
    assert {n["customer"]["id"] for n in sales} == {mine["customer"]["id"]}
    read_only = await _all(client, team.tokens[Role.READ_ONLY])
    assert {n["customer"]["id"] for n in read_only} == {mine["customer"]["id"], theirs["customer"]["id"]}
    assert not any(n["action"].startswith(("settings", "user", "token")) for n in read_only)
    assert len(await _all(client, team.tokens[FULL])) > len(read_only)


async def test_r_audit_01_others_are_refused_and_bad_input_is_an_error_not_a_500(client, team, sessionmaker):
    from tests.factories import trials_team_token

    body = await gql(client, LOG, {}, token=await trials_team_token(sessionmaker))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for variables in ({"first": 0}, {"first": 101}, {"after": "nonsense"}, {"after": "WyJhdWRpdCIsIjIwMjYiLDFd"},
                      {"filter": {"since": "2026-01-01T00:00:00"}}):
        body = await gql(client, LOG, variables, token=team.tokens[FULL])
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", (variables, body)


async def test_r_audit_02_nobody_changes_or_deletes_an_event_through_the_api(client, team):
    body = await gql(client, "{ __schema { mutationType { fields { name } } } }", token=team.tokens[FULL])
    names = [f["name"] for f in body["data"]["__schema"]["mutationType"]["fields"]]
    assert not [name for name in names if "audit" in name.lower()]


async def test_r_audit_02_the_worker_deletes_events_older_than_two_years_in_batches(app, settings, sessionmaker, team):
    async with sessionmaker() as db, db.begin():
        now = await clock.refresh(db)
        mark = await db.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
        for days in (800, 731, 730.01, 729.9, 10):
            db.add(AuditEvent(at=now - timedelta(days=days), actor="system", action="trial.extended",
                              subject_type="Trial", subject_id=1, partner_id=team.partner_id))
    runtime = Runtime(settings=settings, engine=app.state.engine, sessionmaker=app.state.sessionmaker)
    assert await retention.purge_audit_events(runtime, batch=2) == 3
    async with sessionmaker() as db:
        left = list(await db.scalars(select(AuditEvent.at).where(AuditEvent.id > mark)))
    assert len(left) == 2 and all(now - at < timedelta(days=730) for at in left)
    assert await retention.purge_audit_events(runtime, batch=2) == 0


async def test_r_audit_02_the_daily_job_purges_with_its_own_batch_size(app, settings, sessionmaker, team):
    """The worker's daily job (`jobs.worker.audit_retention`) as it runs, with no batch given: kills
    `audit_log.RETENTION_BATCH = None` (a mutant of `make mutate`: the purge's default batch, no
    LIMIT and `gone < None` failing the job, so no event would ever be deleted)."""
    from jobs import worker

    async with sessionmaker() as db, db.begin():
        now = await clock.refresh(db)
        mark = await db.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
        for days in (900, 731, 10):
            db.add(AuditEvent(at=now - timedelta(days=days), actor="system", action="trial.extended",
                              subject_type="Trial", subject_id=1, partner_id=team.partner_id))
    runtime = Runtime(settings=settings, engine=app.state.engine, sessionmaker=app.state.sessionmaker)
    assert await worker.audit_retention({"runtime": runtime}) == {"deleted": 2}
    async with sessionmaker() as db:
        left = list(await db.scalars(select(AuditEvent.at).where(AuditEvent.id > mark)))
    assert len(left) == 1 and now - left[0] < timedelta(days=11)


async def test_r_audit_01_first_null_reads_the_default_page_as_the_contract_allows(client, team):
    """API.graphql declares `auditLog(first: Int = 50)`: an explicit null is the default page of 50,
    not a validation error (the schema had `Int!`, refusing it)."""
    await update(client, team.tokens[FULL], reminderDays=[14, 7])
    page = await _log(client, team.tokens[FULL], first=None)
    assert page["edges"] and page["edges"][0]["node"]["action"] == "settings.updated"
