"""Issue 18's bulk extend over GraphQL: `extendTrials` runs R-EXT-01 per trial (R-ROLE-02 per
trial), one result per trial, nothing of a refused trial changed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from server.db.models import AuditEvent, Trial
from server.enums import Role
from tests.factories import partner_team
from tests.helpers import gql
from tests.partner_day.conftest import EXTEND_MANY, in_grace, pk


def results(body: dict) -> list[dict]:
    assert "errors" not in body, body
    payload = body["data"]["extendTrials"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["results"]


async def ends_at(sessionmaker, trial: dict) -> datetime:
    async with sessionmaker() as db:
        return await db.scalar(select(Trial.ends_at).where(Trial.id == pk(trial)))


async def test_r_ext_01_bulk_extend_adds_days_to_each_current_end(kit):
    short = await kit.paid_trial(await kit.paid_customer(), days=30)
    long = await kit.paid_trial(await kit.paid_customer(), days=90)
    grace = await kit.paid_trial(await kit.paid_customer(), days=30)
    await in_grace(kit.sessionmaker, grace, days_ago=5)
    found = results(await kit.call(EXTEND_MANY, {"input": {"trialIds": [short["id"], long["id"], grace["id"]],
                                                           "days": 60}}))
    assert [r["trialId"] for r in found] == [short["id"], long["id"], grace["id"]]
    assert all(r["userErrors"] == [] for r in found)
    assert [r["trial"]["daysLeft"] for r in found] == [90, 150, 55]
    assert found[2]["trial"]["state"] == "ACTIVE"  # extending in grace reactivates


async def test_r_ext_01_bulk_extend_refuses_per_trial_and_leaves_refused_trials_untouched(kit, sessionmaker):
    mine = await kit.paid_trial(await kit.paid_customer(), role=Role.SALES_ADMIN)
    theirs = await kit.paid_trial(await kit.paid_customer(), role=Role.SALES_FULL_ADMIN)
    other = await partner_team(sessionmaker)
    stranger = await kit.paid_trial(await kit.paid_customer(), role=Role.SALES_FULL_ADMIN)
    before = await ends_at(sessionmaker, theirs)
    ids = [mine["id"], theirs["id"], "not-an-id", mine["id"]]
    found = results(await kit.call(EXTEND_MANY, {"input": {"trialIds": ids, "days": 30}}, role=Role.SALES_ADMIN))
    assert [r["trialId"] for r in found] == [mine["id"], theirs["id"], "not-an-id"]  # listed twice: once
    codes = [[e["code"] for e in r["userErrors"]] for r in found]
    assert codes == [[], ["NOT_FOUND"], ["NOT_FOUND"]]  # a sales admin does not see others' customers
    assert found[0]["trial"]["daysLeft"] == 120 and found[1]["trial"] is None
    assert await ends_at(sessionmaker, theirs) == before
    read_only = results(await kit.call(EXTEND_MANY, {"input": {"trialIds": [mine["id"]], "days": 30}},
                                       role=Role.READ_ONLY))
    assert [e["code"] for e in read_only[0]["userErrors"]] == ["FORBIDDEN"]
    async with sessionmaker() as db:
        denied = await db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "permission.denied"))
    assert denied == 1  # R-ROLE-02: denials are logged
    body = await gql(kit.client, EXTEND_MANY, {"input": {"trialIds": [stranger["id"]], "days": 30}},
                     token=other.tokens[Role.PARTNER_FULL_ADMIN])
    assert [e["code"] for e in results(body)[0]["userErrors"]] == ["NOT_FOUND"]  # R-ORG-02


async def test_r_ext_01_bulk_extend_bad_input_changes_nothing(kit):
    trial = await kit.paid_trial(await kit.paid_customer())
    before = await ends_at(kit.sessionmaker, trial)
    for variables, code in (({"trialIds": [trial["id"]], "days": 45}, "INVALID_DURATION"),
                            ({"trialIds": [], "days": 30}, "INVALID_INPUT")):
        payload = (await kit.call(EXTEND_MANY, {"input": variables}))["data"]["extendTrials"]
        assert payload["results"] == [] and [e["code"] for e in payload["userErrors"]] == [code]
    assert await ends_at(kit.sessionmaker, trial) == before
    distinct = [f"T{n}" for n in range(101)]
    body = await kit.call(EXTEND_MANY, {"input": {"trialIds": distinct, "days": 30}})
    assert [e["code"] for e in body["data"]["extendTrials"]["userErrors"]] == ["INVALID_INPUT"]


async def test_bulk_extend_client_mutation_id_replays_the_first_answer(kit):
    trial = await kit.paid_trial(await kit.paid_customer(), days=30)
    variables = {"input": {"trialIds": [trial["id"]], "days": 30, "clientMutationId": "bulk-1"}}
    first = results(await kit.call(EXTEND_MANY, variables))
    again = results(await kit.call(EXTEND_MANY, variables))
    assert first == again and again[0]["trial"]["daysLeft"] == 60
