"""Issue 18, the home page's numbers over GraphQL: `attention` (each category's rule, its scope as
the customers list's: R-ORG-02, R-ROLE-02) and `trialsByWeek`."""
from __future__ import annotations

from datetime import timedelta

from server import clock
from server.enums import Role
from server.schema.node import to_global_id
from tests.factories import existing_customer, partner_team
from tests.helpers import gql
from tests.trials.conftest import EXISTING, INTEREST, customer_admin, new_customer_input, run_as, trial_of
from tests.partner_day.conftest import (
    ATTENTION, WEEKS, consent_sent_days_ago, extension_waiting, in_grace, lists, provisioning_failed, set_trial,
    shipment,
)


async def test_attention_every_category_with_count_and_items(kit):
    now = clock.now()
    ending_customer = await kit.paid_customer(name="Ending AS")
    ending = await kit.paid_trial(ending_customer)
    await set_trial(kit.sessionmaker, ending, ends_at=now + timedelta(days=3, hours=1))
    later = await kit.paid_trial(await kit.paid_customer(name="Later AS"))  # 90 days left: not ending soon
    grace_customer = await kit.paid_customer(name="Grace AS")
    grace = await kit.paid_trial(grace_customer)
    await in_grace(kit.sessionmaker, grace, days_ago=10)
    failed = await kit.paid_customer(name="Failed AS")
    await kit.paid_trial(failed)  # a sales admin sees the customers whose trials it started (R-ROLE-02)
    await provisioning_failed(kit.sessionmaker, failed)
    await shipment(kit.sessionmaker, later, await kit.paid_customer(name="Spare AS"), return_in_days=30)  # not yet
    returns_customer = await kit.paid_customer(name="Returns AS")
    returning = await kit.paid_trial(returns_customer, services=("DEVICES",))
    await shipment(kit.sessionmaker, returning, returns_customer, return_in_days=10)
    await shipment(kit.sessionmaker, returning, returns_customer, return_in_days=-2, status="OVERDUE",
                   device_type="HEADSET")
    await extension_waiting(kit.sessionmaker, returning)
    await existing_customer(kit.sessionmaker, admin_email="boss@old.example", name="Consent AS")
    old = trial_of(await kit.call(EXISTING, {"input": new_customer_input(adminEmail="boss@old.example",
                                                                         services=["CALLING"])}),
                   "requestTrialForExistingCustomer")
    await consent_sent_days_ago(kit.sessionmaker, old, 21)
    await existing_customer(kit.sessionmaker, admin_email="boss@new.example", name="Fresh AS")
    trial_of(await kit.call(EXISTING, {"input": new_customer_input(adminEmail="boss@new.example",
                                                                   services=["CALLING"])}),
             "requestTrialForExistingCustomer")  # 0 days pending: not yet
    await run_as(kit.app, await customer_admin(kit.sessionmaker, ending_customer), INTEREST, {"t": ending["id"]})

    found = lists(await kit.call(ATTENTION))
    assert list(found) == ["TRIALS_ENDING_SOON", "TRIALS_IN_GRACE", "CONSENT_PENDING", "PROVISIONING_FAILED",
                           "DEVICE_RETURNS_DUE", "DEVICE_EXTENSIONS_WAITING", "PURCHASE_INTEREST",
                           "LOW_ADOPTION_ENDING_SOON"]
    names = {kind: [i["customerName"] for i in entry["items"]] for kind, entry in found.items()}
    assert names == {"TRIALS_ENDING_SOON": ["Ending AS"], "TRIALS_IN_GRACE": ["Grace AS"],
                     "CONSENT_PENDING": ["Consent AS"], "PROVISIONING_FAILED": ["Failed AS"],
                     "DEVICE_RETURNS_DUE": ["Returns AS", "Returns AS"],
                     "DEVICE_EXTENSIONS_WAITING": ["Returns AS"], "PURCHASE_INTEREST": ["Ending AS"],
                     "LOW_ADOPTION_ENDING_SOON": []}
    assert found["TRIALS_ENDING_SOON"]["items"][0]["daysLeft"] == 4
    assert found["TRIALS_ENDING_SOON"]["items"][0]["trialId"] == ending["id"]
    assert found["TRIALS_IN_GRACE"]["items"][0]["daysLeft"] == 20  # days left to convert
    lapse = found["CONSENT_PENDING"]["items"][0]
    assert lapse["daysLeft"] == 9 and lapse["day"] == (now + timedelta(days=9)).date().isoformat()
    assert found["PROVISIONING_FAILED"]["items"][0]["customerId"] == to_global_id("Customer", failed)
    overdue, due = found["DEVICE_RETURNS_DUE"]["items"]
    assert (overdue["overdue"], overdue["daysLeft"], due["overdue"], due["daysLeft"]) == (True, 0, False, 10)
    assert len(found) == 8 and all(entry["totalCount"] == len(entry["items"]) for entry in found.values())
    await _planned_like_the_reference(kit)


async def _planned_like_the_reference(kit) -> None:
    """On PostgreSQL the read planner answers attention (and trialsByWeek) in its one statement: the
    same body as the reference path for every role of the team, page sizes 0, 1, 5 and one it refuses."""
    import orjson

    from server.domain.core.actor import Actor, ActorKind
    from tests.helpers import both_paths

    planner = kit.app.state.planner
    if planner is None:
        return
    text = ATTENTION.replace("query($first: Int) {", "query Q($first: Int) { weeks: trialsByWeek(weeks: 3) "
                             "{ weeks { started released } } a: attention(first: 2) { kind items { day } }")
    planned_roots = set()
    for role in kit.team.user_ids:
        actor = Actor(kind=ActorKind.PARTNER_USER, user_id=kit.team.user_ids[role], partner_id=kit.team.partner_id,
                      roles=frozenset({role}), email=kit.team.emails[role])
        for first in (0, 1, 5, 51):
            body, planned, answer = await both_paths(kit.app.state, planner, kit.app.state.documents, actor, text,
                                                     {"first": first}, "Q")
            assert orjson.dumps(planned) == orjson.dumps(body), (role, first)  # keys in order too
            planned_roots |= {root.key for root in answer.answered} if answer is not None else set()
    assert planned_roots == {"weeks", "a", "attention"}, planner.fallbacks


async def test_attention_counts_all_and_lists_the_first(kit):
    now = clock.now()
    for n in range(3):
        trial = await kit.paid_trial(await kit.paid_customer(name=f"Soon {n}"))
        await set_trial(kit.sessionmaker, trial, ends_at=now + timedelta(days=6 - n))
    found = lists(await kit.call(ATTENTION, {"first": 2}))
    assert found["TRIALS_ENDING_SOON"]["totalCount"] == 3
    assert [i["customerName"] for i in found["TRIALS_ENDING_SOON"]["items"]] == ["Soon 2", "Soon 1"]
    empty = lists(await kit.call(ATTENTION, {"first": 0}))
    assert empty["TRIALS_ENDING_SOON"] == {"kind": "TRIALS_ENDING_SOON", "totalCount": 3, "items": []}
    body = await kit.call(ATTENTION, {"first": 51})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_r_role_02_attention_of_a_sales_admin_is_own_customers_only(kit):
    now = clock.now()
    mine = await kit.paid_trial(await kit.paid_customer(name="Mine AS"), role=Role.SALES_ADMIN)
    theirs = await kit.paid_trial(await kit.paid_customer(name="Theirs AS"), role=Role.SALES_FULL_ADMIN)
    for trial in (mine, theirs):
        await set_trial(kit.sessionmaker, trial, ends_at=now + timedelta(days=2))
    def ending(body):
        return [i["customerName"] for i in lists(body)["TRIALS_ENDING_SOON"]["items"]]
    assert ending(await kit.call(ATTENTION, role=Role.SALES_ADMIN)) == ["Mine AS"]
    assert sorted(ending(await kit.call(ATTENTION, role=Role.READ_ONLY))) == ["Mine AS", "Theirs AS"]


async def test_r_org_02_attention_never_shows_another_partners_customers(kit, sessionmaker):
    trial = await kit.paid_trial(await kit.paid_customer(name="Ours AS"))
    await in_grace(kit.sessionmaker, trial)
    other = await partner_team(sessionmaker)
    body = await gql(kit.client, ATTENTION, token=other.tokens[Role.PARTNER_FULL_ADMIN])
    found = lists(body)
    assert len(found) == 8 and all(entry["totalCount"] == 0 and entry["items"] == [] for entry in found.values())


async def test_attention_needs_a_signed_in_caller(client):
    body = await gql(client, ATTENTION)
    assert body["data"] is None and body["errors"]


async def test_trials_by_week_counts_iso_weeks_in_utc(kit):
    now = clock.now()
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    started = await kit.paid_trial(await kit.paid_customer())  # started now: this week
    converted = await kit.paid_trial(await kit.paid_customer())
    await set_trial(kit.sessionmaker, converted, state="CONVERTED", starts_at=monday - timedelta(weeks=3),
                    converted_at=monday - timedelta(weeks=1) + timedelta(hours=1))
    released = await kit.paid_trial(await kit.paid_customer())
    await set_trial(kit.sessionmaker, released, state="RELEASED", starts_at=monday - timedelta(weeks=20),
                    ends_at=monday - timedelta(weeks=5, seconds=1), released_at=monday - timedelta(weeks=1))
    expired = await kit.paid_trial(await kit.paid_customer())
    await set_trial(kit.sessionmaker, expired, state="EXPIRED", starts_at=monday - timedelta(weeks=20),
                    ends_at=monday - timedelta(seconds=1))  # Sunday 23:59:59 UTC: last week
    body = await kit.call(WEEKS)
    assert "errors" not in body, body
    weeks = body["data"]["trialsByWeek"]["weeks"]
    assert len(weeks) == 12 and weeks[-1]["weekStart"] == monday.date().isoformat()
    year, week, _ = monday.date().isocalendar()
    assert weeks[-1]["isoWeek"] == f"{year}-W{week:02}"
    counts = {w["weekStart"]: (w["started"], w["converted"], w["expired"], w["released"]) for w in weeks}
    assert counts[monday.date().isoformat()] == (1, 0, 0, 0)
    last_week = (monday - timedelta(weeks=1)).date().isoformat()
    assert counts[last_week] == (0, 1, 1, 1)
    assert counts[(monday - timedelta(weeks=3)).date().isoformat()] == (1, 0, 0, 0)
    assert counts[(monday - timedelta(weeks=6)).date().isoformat()] == (0, 0, 1, 0)
    assert sum(sum(c) for c in counts.values()) == 6
    by_start = {w["weekStart"]: w for w in weeks}
    assert by_start[last_week]["conversionRate"] == 0.5 and by_start[monday.date().isoformat()]["conversionRate"] is None
    assert body["data"]["trialsByWeek"]["conversionRate"] == 0.5
    assert started["state"] == "ACTIVE"


async def test_r_role_02_trials_by_week_of_a_sales_admin_counts_own_customers(kit):
    await kit.paid_trial(await kit.paid_customer(), role=Role.SALES_ADMIN)
    await kit.paid_trial(await kit.paid_customer(), role=Role.SALES_FULL_ADMIN)
    def started(body):
        return sum(w["started"] for w in body["data"]["trialsByWeek"]["weeks"])
    assert started(await kit.call(WEEKS, role=Role.SALES_ADMIN)) == 1
    assert started(await kit.call(WEEKS, role=Role.PARTNER_ADMIN)) == 2
    body = await kit.call(WEEKS, {"weeks": 0})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_home_queries_send_the_same_statements_whatever_the_data_size(kit):
    """Set-based SQL: attention + trialsByWeek cost the same statements for 1 customer as for 12."""
    from sqlalchemy import event

    engine = kit.app.state.engine.sync_engine
    query = ATTENTION.replace("query($first: Int) {", "query($first: Int) { trialsByWeek { weeks { started } }")

    async def statements() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            body = await kit.call(query)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert "errors" not in body, body
        return len(seen)

    await in_grace(kit.sessionmaker, await kit.paid_trial(await kit.paid_customer()))
    few = await statements()
    for n in range(11):
        trial = await kit.paid_trial(await kit.paid_customer())
        await set_trial(kit.sessionmaker, trial, ends_at=clock.now() + timedelta(days=n % 7 + 1))
    assert await statements() == few
