"""SPEC §10 reads: Trial.adoption (R-USE-03/04), the customers list's filter and order (R-USE-05) and
who reads what (R-USE-09), over GraphQL, on the reference path and (PostgreSQL) the read planner."""
from __future__ import annotations

from datetime import timedelta

import pytest

from server import clock
from server.enums import Role
from server.schema.node import decode_id, to_global_id
from tests.factories import partner_team
from tests.helpers import gql
from tests.trials.conftest import customer_admin, run_as
from tests.partner_day.conftest import set_trial
from tests.usage.conftest import activity, assigned, send

ADOPTION = """query Adoption($id: ID!) { trial(id: $id) { adoption { health activeUsers7d activeUsers30d activation
  lastActiveOn services { type activeUsers7d activeUsers30d events30d minutes30d assignedLicenses }
  daily(days: 3) { day service activeUsers events minutes } } } }"""
LIST = """query AdoptionList($adoption: AdoptionHealth, $order: CustomerOrder!) {
  customers(first: 50, adoption: $adoption, orderBy: $order) { totalCount
    edges { cursor node { name trials { state licenseCount adoption { health activeUsers30d activation lastActiveOn } } } } } }"""


async def trial_with(kit, name: str, *, started_days_ago: int, services=("MEETINGS", "MESSAGING"), **values) -> dict:
    customer = await kit.paid_customer(name=name)
    trial = await kit.paid_trial(customer, services=services)
    await set_trial(kit.sessionmaker, trial, state="ACTIVE", starts_at=clock.now() - timedelta(days=started_days_ago),
                    **values)
    trial["customer_id"] = customer
    return trial


async def both_paths(app, call):
    """The planner's answer (PostgreSQL) and the reference path's, which must be the same."""
    planned = await call()
    saved, app.state.planner = app.state.planner, None
    try:
        reference = await call()
    finally:
        app.state.planner = saved
    assert planned == reference
    return planned


async def test_r_use_03_adoption_counts_the_trials_services_from_its_start(client, kit, platform):
    trial = await trial_with(kit, "Figures AS", started_days_ago=40)
    org, today = trial["customer_id"], clock.today()
    ago = lambda n: today - timedelta(days=n)  # noqa: E731
    answer = await send(client, platform, [
        activity(org, today, "MEETINGS", "k1", 2, 60), activity(org, today, "MEETINGS", "k2", 1, 30),
        activity(org, ago(1), "MESSAGING", "k1", 5),                     # k1 on two services: one user
        activity(org, ago(9), "MESSAGING", "k3", 4),                     # 30 days, not 7
        activity(org, ago(35), "MEETINGS", "k4", 1, 10),                 # since the start, not within 30 days
        activity(org, ago(45), "MEETINGS", "k5", 1, 10),                 # before the start
        activity(org, today, "CALLING", "k6", 3, 9),                     # not a trial service
        activity(org, today, "MEETINGS", "k7", 0, 0),                    # no activity
        assigned(org, ago(1), "MEETINGS", 8), assigned(org, today, "MEETINGS", 9), assigned(org, ago(50), "MESSAGING", 3),
    ])
    assert answer.json()["rejected"] == []
    body = await gql(client, ADOPTION, {"id": trial["id"]}, token=kit.token())
    assert "errors" not in body, body
    adoption = body["data"]["trial"]["adoption"]
    assert {k: adoption[k] for k in ("health", "activeUsers7d", "activeUsers30d", "activation", "lastActiveOn")} == {
        "health": "HEALTHY", "activeUsers7d": 2, "activeUsers30d": 3, "activation": 0.3, "lastActiveOn": str(today)}
    assert adoption["services"] == [
        {"type": "MEETINGS", "activeUsers7d": 2, "activeUsers30d": 2, "events30d": 3, "minutes30d": 90,
         "assignedLicenses": 9},
        {"type": "MESSAGING", "activeUsers7d": 1, "activeUsers30d": 2, "events30d": 9, "minutes30d": 0,
         "assignedLicenses": None}]
    assert adoption["daily"] == [
        {"day": str(ago(2)), "service": "MEETINGS", "activeUsers": 0, "events": 0, "minutes": 0},
        {"day": str(ago(2)), "service": "MESSAGING", "activeUsers": 0, "events": 0, "minutes": 0},
        {"day": str(ago(1)), "service": "MEETINGS", "activeUsers": 0, "events": 0, "minutes": 0},
        {"day": str(ago(1)), "service": "MESSAGING", "activeUsers": 1, "events": 5, "minutes": 0},
        {"day": str(today), "service": "MEETINGS", "activeUsers": 2, "events": 3, "minutes": 90},
        {"day": str(today), "service": "MESSAGING", "activeUsers": 0, "events": 0, "minutes": 0}]


@pytest.mark.parametrize("days", [-5, 0, None, 10_000])
async def test_r_use_03_the_daily_series_starts_at_the_trials_start_and_takes_any_days(client, kit, days):
    trial = await trial_with(kit, f"Series {days} AS", started_days_ago=2)
    query = "query($id: ID!, $d: Int) { trial(id: $id) { adoption { daily(days: $d) { day service } } } }"
    body = await gql(client, query, {"id": trial["id"], "d": days}, token=kit.token())
    series = body["data"]["trial"]["adoption"]["daily"]
    expected = 1 if days is not None and days < 1 else 3
    assert len(series) == 2 * expected
    assert series[-1]["day"] == str(clock.today())


async def test_r_use_04_health_by_the_rules_at_the_clocks_today(app, client, kit, platform):
    today = clock.today()
    fresh = await trial_with(kit, "A Fresh AS", started_days_ago=3)            # no usage, started 3 days ago
    idle = await trial_with(kit, "B Idle AS", started_days_ago=20)             # used 8 days ago, not since
    never = await trial_with(kit, "C Never AS", started_days_ago=8)            # no usage, started 8 days ago
    low = await trial_with(kit, "D Low AS", started_days_ago=20)               # 1 of 10 licenses
    healthy = await trial_with(kit, "E Healthy AS", started_days_ago=20)       # 2 of 10: 20 % is not under 20 %
    converted = await trial_with(kit, "F Converted AS", started_days_ago=20)
    await set_trial(kit.sessionmaker, converted, state="CONVERTED")
    await send(client, platform, [
        activity(idle["customer_id"], today - timedelta(days=7), "MEETINGS", "i1", 1),
        activity(low["customer_id"], today, "MEETINGS", "l1", 1),
        activity(healthy["customer_id"], today - timedelta(days=6), "MEETINGS", "h1", 1),
        activity(healthy["customer_id"], today - timedelta(days=20), "MESSAGING", "h2", 1),
        activity(converted["customer_id"], today, "MEETINGS", "c1", 5)])

    async def call():
        return await gql(client, LIST, {"order": "NAME"}, token=kit.token(Role.SALES_FULL_ADMIN))
    body = await both_paths(app, call)
    seen = {e["node"]["name"]: e["node"]["trials"][0]["adoption"] for e in body["data"]["customers"]["edges"]}
    assert {name: a["health"] for name, a in seen.items()} == {
        "A Fresh AS": "NOT_STARTED", "B Idle AS": "INACTIVE", "C Never AS": "INACTIVE", "D Low AS": "LOW",
        "E Healthy AS": "HEALTHY", "F Converted AS": None}
    assert seen["D Low AS"] == {"health": "LOW", "activeUsers30d": 1, "activation": 0.1, "lastActiveOn": str(today)}
    assert seen["F Converted AS"]["activeUsers30d"] == 1            # usage kept on conversion (R-USE-08)
    if app.state.planner is not None:
        assert app.state.planner.planned["AdoptionList"] >= 1       # one statement for the whole page
    assert {fresh["id"], idle["id"], never["id"]}


async def test_r_use_05_the_customers_list_filters_and_sorts_by_health(app, client, kit, platform):
    today = clock.today()
    for name, users in (("Healthy AS", 3), ("Low AS", 1), ("Inactive AS", 0)):
        trial = await trial_with(kit, name, started_days_ago=20)
        await send(client, platform, [activity(trial["customer_id"], today, "MEETINGS", f"u{n}", 1) for n in range(users)])
    await trial_with(kit, "Fresh AS", started_days_ago=1)
    await kit.paid_customer(name="No Trial AS")
    token = kit.token(Role.SALES_FULL_ADMIN)

    async def names(**variables):
        async def call():
            return await gql(client, LIST, {"order": "NAME", **variables}, token=token)
        body = await both_paths(app, call)
        return [e["node"]["name"] for e in body["data"]["customers"]["edges"]], body["data"]["customers"]["totalCount"]

    assert await names(adoption="LOW") == (["Low AS"], 1)
    assert await names(adoption="INACTIVE") == (["Inactive AS"], 1)
    assert await names(adoption="NOT_STARTED") == (["Fresh AS"], 1)
    assert (await names(order="ADOPTION"))[0] == ["Inactive AS", "Low AS", "Fresh AS", "Healthy AS", "No Trial AS"]
    page = "query($after: String) { customers(first: 2, after: $after, orderBy: ADOPTION) { edges { cursor node { name } } } }"
    walked, after = [], None
    for _ in range(4):
        edges = (await gql(client, page, {"after": after}, token=token))["data"]["customers"]["edges"]
        if not edges:
            break
        walked += [e["node"]["name"] for e in edges]
        after = edges[-1]["cursor"]
    assert walked == ["Inactive AS", "Low AS", "Fresh AS", "Healthy AS", "No Trial AS"]


async def test_r_use_09_usage_is_read_by_who_sees_the_trial(app, client, kit, platform, sessionmaker):
    trial = await trial_with(kit, "Private AS", started_days_ago=10)
    await send(client, platform, [activity(trial["customer_id"], clock.today(), "MEETINGS", "p1", 1)])
    other = await partner_team(sessionmaker, roles=[Role.PARTNER_FULL_ADMIN])
    query = "query($id: ID!) { trial(id: $id) { adoption { activeUsers30d } } }"
    assert (await gql(client, query, {"id": trial["id"]}, token=other.tokens[Role.PARTNER_FULL_ADMIN]))["data"] == {
        "trial": None}
    mine = await gql(client, query, {"id": trial["id"]}, token=kit.token(Role.READ_ONLY))
    assert mine["data"]["trial"]["adoption"] == {"activeUsers30d": 1}
    admin = await customer_admin(sessionmaker, trial["customer_id"])
    assert (await run_as(app, admin, query, {"id": trial["id"]}))["data"]["trial"]["adoption"] == {"activeUsers30d": 1}
    platform_view = await gql(client, query, {"id": trial["id"]}, token=platform)
    assert (platform_view.get("data") or {}).get("trial") is None
    assert decode_id(trial["id"], "Trial") and to_global_id("Customer", trial["customer_id"])


async def test_r_use_05_attention_lists_low_adoption_ending_soon(app, client, kit, platform):
    now, today = clock.now(), clock.today()
    cases = {"Low Ending AS": (10, 1), "Idle Ending AS": (5, 0), "Healthy Ending AS": (5, 3), "Low Later AS": (30, 1)}
    for name, (ends_in, users) in cases.items():
        trial = await trial_with(kit, name, started_days_ago=30, ends_at=now + timedelta(days=ends_in, hours=1))
        await send(client, platform, [activity(trial["customer_id"], today, "MEETINGS", f"u{n}", 1) for n in range(users)])
    query = "{ attention(first: 5) { kind totalCount items { customerName daysLeft } } }"
    body = await gql(client, query, token=kit.token())
    found = {entry["kind"]: entry for entry in body["data"]["attention"]}["LOW_ADOPTION_ENDING_SOON"]
    assert found == {"kind": "LOW_ADOPTION_ENDING_SOON", "totalCount": 2,
                     "items": [{"customerName": "Idle Ending AS", "daysLeft": 6},
                               {"customerName": "Low Ending AS", "daysLeft": 11}]}
    page = await client.get("/", headers={"authorization": f"Bearer {kit.token()}"})
    assert page.status_code in (200, 303)


def test_r_use_03_a_user_on_several_services_is_one_user_with_the_latest_day():
    """The planner's merge of a trial's last-active rows (usage.sql.merged_days, one {user: day} object
    per service): disjoint users keep their days, a user on two services counts once with the later."""
    from server.domain.usage.sql import merged_days

    assert merged_days(None) == () and merged_days([]) == ()
    assert sorted(merged_days([{"a": 5, "b": 7}])) == [5, 7]
    assert sorted(merged_days([{"a": 5, "b": 7}, {"c": 1}])) == [1, 5, 7]
    assert sorted(merged_days([{"a": 5, "b": 7}, {"b": 9, "c": 1}, {"a": 2}])) == [1, 5, 9]
