"""R-USE-07: a change of a trial's health is one `trial.adoption_changed` webhook event carrying the
previous health, emitted by the worker's daily evaluation (not on a read), which evaluates only the
trials whose health may have changed. Through the worker's sweep, usage over HTTP and a real
webhook receiver."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from jobs import webhooks
from jobs.sweep import run_due
from server import clock
from server.db.models import AuditEvent, Trial, TrialAdoptionHealth, TrialService
from server.domain.usage import daily, evaluation
from tests.factories import partner_team
from tests.helpers import gql
from tests.timeline.conftest import managed_customer
from tests.usage.conftest import activity, send
from tests.usage.test_adoption import ADOPTION, trial_with
from tests.webhooks.conftest import admin, create_endpoint, receiver  # noqa: F401 - the fixture, shared

TYPE = "trial.adoption_changed"


async def advance(sessionmaker, days: int) -> None:
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=days))


async def recorded(sessionmaker, trial_id: int) -> tuple:
    async with sessionmaker() as db:
        row = (await db.execute(select(TrialAdoptionHealth.health, TrialAdoptionHealth.next_check_on)
                                .where(TrialAdoptionHealth.trial_id == trial_id))).first()
    return tuple(row) if row else None


async def changes_audited(sessionmaker) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == TYPE))


def events(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.requests]


async def test_r_use_07_a_change_of_health_is_one_webhook_event_with_the_previous_health(
        client, sessionmaker, kit, platform, receiver, runtime):
    from server.schema.node import decode_id

    trial = await trial_with(kit, "Changes AS", started_days_ago=20, services=("MEETINGS",))   # 10 licenses
    trial_id = decode_id(trial["id"], "Trial")
    org, start = trial["customer_id"], clock.today()
    lines = [activity(org, start, "MEETINGS", f"k{n}", 1, 5) for n in range(3)]             # 3 of 10: HEALTHY
    assert (await send(client, platform, lines)).json()["rejected"] == []
    await create_endpoint(client, admin(kit.team), receiver.url, [TYPE])
    await run_due(runtime)                                            # the first evaluation: recorded, no event
    assert await recorded(sessionmaker, trial_id) == ("HEALTHY", start + timedelta(days=7))
    for _ in range(6):                                                # still HEALTHY every day until the 7th
        await advance(sessionmaker, 1)
        await run_due(runtime)
    assert receiver.requests == [] and await changes_audited(sessionmaker) == 0
    for _ in range(3):                                                # reads do not evaluate
        assert "errors" not in await gql(client, ADOPTION, {"id": trial["id"]}, token=kit.token())
    assert await changes_audited(sessionmaker) == 0

    await advance(sessionmaker, 1)                                    # 7 days without use: INACTIVE
    await run_due(runtime)
    [event] = events(receiver)
    assert event["type"] == TYPE
    assert event["data"]["previousAttributes"] == {"health": "HEALTHY"}
    changed = event["data"]["object"]
    assert {k: changed[k] for k in ("__typename", "id", "state", "health", "activeUsers30d", "lastActiveOn")} == {
        "__typename": "Trial", "id": trial["id"], "state": "ACTIVE", "health": "INACTIVE", "activeUsers30d": 3,
        "lastActiveOn": str(start)}
    assert await recorded(sessionmaker, trial_id) == ("INACTIVE", None)

    await run_due(runtime)                                            # a second run the same day: nothing
    async with sessionmaker() as db, db.begin():                      # nor an evaluation run again today
        again = await evaluation.evaluate(db, clock.today(), clock.today())
    assert again.changes == []
    await webhooks.flush(runtime)
    assert len(receiver.requests) == 1 and await changes_audited(sessionmaker) == 1

    today = clock.today()                         # one user back: 4 of 10 in 30 days, HEALTHY again, the next day
    assert (await send(client, platform, [activity(org, today, "MEETINGS", "k9", 2)])).json()["rejected"] == []
    await run_due(runtime)
    assert len(receiver.requests) == 1                                # evaluated daily, not on ingest
    await advance(sessionmaker, 1)
    await run_due(runtime)
    assert [(e["data"]["previousAttributes"], e["data"]["object"]["health"]) for e in events(receiver)] == [
        ({"health": "HEALTHY"}, "INACTIVE"), ({"health": "INACTIVE"}, "HEALTHY")]


async def test_r_use_07_no_change_of_health_no_event(client, sessionmaker, kit, platform, receiver, runtime):
    trial = await trial_with(kit, "Steady AS", started_days_ago=20, services=("MEETINGS",))
    org = trial["customer_id"]
    await create_endpoint(client, admin(kit.team), receiver.url, [TYPE])
    for _ in range(4):                                                # 4 of 10 active every day: HEALTHY
        today = clock.today()
        await send(client, platform, [activity(org, today, "MEETINGS", f"k{n}", 1, 5) for n in range(4)])
        await run_due(runtime)
        await advance(sessionmaker, 1)
    await run_due(runtime)
    assert receiver.requests == [] and await changes_audited(sessionmaker) == 0


async def _trials(sessionmaker, partner_id: int, count: int, started_days_ago: int) -> list[tuple[int, int]]:
    """`count` ACTIVE trials of as many customers, 10 licenses of MEETINGS: (trial id, customer id)."""
    made = []
    async with sessionmaker() as db, db.begin():
        now = clock.now()
        for n in range(count):
            number = 5000 + len(made) + started_days_ago * 1000
            customer = await managed_customer(db, partner_id, now, number, f"bench{number}.example", "PROVISIONED", [])
            trial = Trial(customer_id=customer.id, partner_id=partner_id, kind="PAID_CUSTOMER", state="ACTIVE",
                          license_count=10, duration_days=90, starts_at=now - timedelta(days=started_days_ago),
                          ends_at=now + timedelta(days=60), version=1, created_at=now)
            db.add(trial)
            await db.flush()
            db.add(TrialService(trial_id=trial.id, customer_id=customer.id, service="MEETINGS", license_count=10,
                                holds=True))
            made.append((trial.id, customer.id))
    return made


async def _evaluated_today(sessionmaker) -> int:
    async with sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(TrialAdoptionHealth).where(
            TrialAdoptionHealth.evaluated_on == clock.today()))


async def test_r_use_07_the_daily_evaluation_reads_only_trials_whose_health_may_have_change(
        client, sessionmaker, platform):
    team = await partner_team(sessionmaker)
    idle = await _trials(sessionmaker, team.partner_id, 40, started_days_ago=20)     # INACTIVE: no usage
    [(new_trial, _)] = await _trials(sessionmaker, team.partner_id, 1, started_days_ago=0)   # NOT_STARTED
    first = (await daily.run(sessionmaker))["adoption"]
    assert first.evaluated == 41 and first.changes == []               # the first evaluation ever: all, once

    per_day = {}
    for day in range(1, 9):
        await advance(sessionmaker, 1)
        if day == 1:                                                   # usage for two of the idle trials
            today = clock.today()
            lines = [activity(org, today, "MEETINGS", f"k{n}", 1) for _, org in idle[:2] for n in range(3)]
            assert (await send(client, platform, lines)).json()["rejected"] == []
        report = (await daily.run(sessionmaker))["adoption"]
        assert await _evaluated_today(sessionmaker) == report.evaluated   # the rows touched
        per_day[day] = (report.evaluated, sorted(report.changes))
    assert per_day[1] == (2, [(idle[0][0], "INACTIVE", "HEALTHY"), (idle[1][0], "INACTIVE", "HEALTHY")])
    assert all(per_day[day] == (0, []) for day in range(2, 8)), per_day
    # day 8: the two trials' 7 days without use are over; the new trial's 7 days without a start too
    assert per_day[8] == (3, sorted([(idle[0][0], "HEALTHY", "INACTIVE"), (idle[1][0], "HEALTHY", "INACTIVE"),
                                     (new_trial, "NOT_STARTED", "INACTIVE")]))
    assert (await daily.run(sessionmaker)) == {}                      # claimed: once a day


def test_r_use_07_the_check_day_is_the_first_day_health_may_change_by_time_alone():
    from datetime import UTC, date, datetime

    from server.domain.usage.adoption import next_check

    today = date(2026, 12, 7)
    started = datetime(2026, 11, 1, tzinfo=UTC)
    day = lambda n: today - timedelta(days=n)  # noqa: E731
    assert next_check("ACTIVE", datetime(2026, 12, 5, tzinfo=UTC), 10, [], today) == date(2026, 12, 13)  # NOT_STARTED
    assert next_check("ACTIVE", started, 10, [], today) is None                                         # INACTIVE
    assert next_check("CONVERTED", started, 10, [today], today) is None                                 # no health
    assert next_check("ACTIVE", started, 10, [day(2)], today) == day(2) + timedelta(days=7)             # LOW
    # HEALTHY, 3 of 10: INACTIVE 7 days after the last use, or LOW once two have left the 30 days if sooner
    assert next_check("EXPIRED", started, 10, [day(25), day(20), day(1)], today) == day(1) + timedelta(days=7)
    assert next_check("ACTIVE", started, 10, [day(25), day(24), day(0)], today) == day(24) + timedelta(days=30)
