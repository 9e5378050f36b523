"""R-SET-01: the warning (R-TIME-01) goes out on each reminder day the partner chose, once; changing
the days re-plans every live trial's pending reminders in the same transaction; a start plans the
partner's days (on PostgreSQL in the start's one statement); the partner's copy goes to the roles it
chose. Both the sweep's Python plans (SQLite) and its SQL statements (PostgreSQL) run here."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, text

from server import clock
from server.db.models import Deadline, OutboxEmail, Trial
from server.domain.core.actor import Actor, ActorKind
from server.domain.partner_settings import settings as partner_settings
from server.domain.timeline import deadlines as timeline
from server.enums import CustomerRole, Role, TrialKind, TrialState
from tests.factories import partner_team
from tests.helpers import gql
from tests.trials.conftest import START, new_customer_input
from tests.settings.kit import update
from tests.timeline.conftest import managed_customer, new_customer_trial

FULL = Role.PARTNER_FULL_ADMIN


async def _open_reminders(sessionmaker, trial_id: int) -> list[str]:
    async with sessionmaker() as db:
        return sorted(await db.scalars(select(Deadline.kind).where(
            Deadline.subject_type == "Trial", Deadline.subject_id == trial_id, Deadline.kind.like("trial_warning%"),
            Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None))))


async def test_r_set_01_changing_reminder_days_replans_live_trials_and_each_day_goes_out_once(
        client, sessionmaker, life):
    t = await new_customer_trial(sessionmaker, days=30)
    other = await new_customer_trial(sessionmaker, days=30)            # another partner keeps its 7 days
    await life.run()                                                   # day 0: provisioned, ACTIVE
    await life.until(10)
    assert await _open_reminders(sessionmaker, t.trial_id) == ["trial_warning"]
    payload = await update(client, t.team.tokens[FULL], reminderDays=[30, 14, 3, 1])
    assert payload["userErrors"] == []
    # 30 days before the end is past (day 0): not planned; 14, 3 and 1 are.
    assert await _open_reminders(sessionmaker, t.trial_id) == ["trial_warning_1", "trial_warning_14",
                                                               "trial_warning_3"]
    assert await _open_reminders(sessionmaker, other.trial_id) == ["trial_warning"]
    await life.until(31)
    warned = sorted({day for day, to, kind in life.log if kind == "warning_customer" and to in t.customer_admins})
    assert warned == [16, 27, 29]
    per_day = [(day, to) for day, to, kind in life.log if kind == "warning_customer" and to in t.customer_admins]
    assert len(per_day) == len(set(per_day)) == 3 * len(t.customer_admins)
    assert sorted({day for day, to, kind in life.log if kind == "warning_customer" and to in other.customer_admins}) \
        == [23]
    async with sessionmaker() as db:
        subjects = set(await db.scalars(select(OutboxEmail.subject).where(
            OutboxEmail.kind == "warning_customer", OutboxEmail.trial_id == t.trial_id, OutboxEmail.locale == "en")))
    assert {s for s in subjects if s} <= {"Your Webex trial ends in 14 days", "Your Webex trial ends in 3 days",
                                         "Your Webex trial ends in 1 day"}


async def test_r_set_01_reminders_of_ended_or_cancelled_trials_are_not_planned_again(client, sessionmaker, life):
    t = await new_customer_trial(sessionmaker, days=30)
    await life.run()
    await life.until(31)                                              # expired: its end is past
    await update(client, t.team.tokens[FULL], reminderDays=[3])
    assert await _open_reminders(sessionmaker, t.trial_id) == []


async def test_r_set_01_a_start_plans_the_partners_reminder_days(client, sessionmaker, life):
    from tests.factories import partner_team

    team = await partner_team(sessionmaker)
    await update(client, team.tokens[FULL], reminderDays=[14, 1])
    body = await gql(client, START, {"input": new_customer_input(durationDays=30)}, token=team.tokens[Role.SALES_ADMIN])
    assert body["data"]["startTrial"]["userErrors"] == []
    async with sessionmaker() as db:
        trial_id = await db.scalar(select(Trial.id).where(Trial.partner_id == team.partner_id))
    assert await _open_reminders(sessionmaker, trial_id) == ["trial_warning_1", "trial_warning_14"]


async def test_r_set_01_the_partner_copy_goes_to_the_roles_chosen_and_the_starter(client, sessionmaker, life):
    t = await new_customer_trial(sessionmaker, days=30)                # started by the sales admin
    await update(client, t.team.tokens[FULL], emailRecipients=[{"kind": "warning_partner", "roles": ["PARTNER_ADMIN"]}])
    await life.run()
    await life.until(31)
    team = t.team
    warned = sorted(to for _, to, kind in life.log if kind == "warning_partner")
    assert warned == sorted([team.emails[Role.PARTNER_ADMIN], team.emails[Role.SALES_ADMIN]])
    expired = sorted(to for _, to, kind in life.log if kind == "expired_partner")
    assert expired == t.partner_admins                                 # a kind not chosen: the default roles


async def _lock_waits(db) -> bool:
    """Whether another session of this PostgreSQL database waits for a lock (each look in its own
    transaction: a transaction sees one snapshot of pg_stat_activity)."""
    async with db.begin():
        return bool(await db.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                         "AND datname = current_database()")))


async def test_r_set_01_a_trial_started_while_the_days_change_gets_the_new_days(sessionmaker):
    """A start still writing when the partner changes the days: the change waits for it and re-plans
    its reminders too (before, the change read the live trials without it and the start committed
    the old days' reminders afterwards)."""
    team = await partner_team(sessionmaker)
    admin = Actor(kind=ActorKind.PARTNER_USER, user_id=team.user_ids[FULL], partner_id=team.partner_id,
                  roles=frozenset({FULL}), email=team.emails[FULL])
    async with sessionmaker() as starting, sessionmaker() as watching:
        await starting.begin()
        await clock.refresh(starting)
        now = clock.now()
        customer = await managed_customer(starting, team.partner_id, now, 9000, "racing.example", "PROVISIONED",
                                          [("boss@racing.example", CustomerRole.FULL_ADMIN, "en")])
        trial = Trial(customer_id=customer.id, partner_id=team.partner_id, kind=TrialKind.NEW_CUSTOMER.value,
                      state=TrialState.ACTIVE.value, license_count=10, duration_days=30, starts_at=now,
                      ends_at=now + timedelta(days=30), grace_ends_at=now + timedelta(days=30) + timeline.GRACE,
                      version=1, created_at=now)
        starting.add(trial)
        await starting.flush()
        await timeline.plan_trial(starting, trial)                       # the old days: 7
        await starting.flush()

        async def change() -> None:
            async with sessionmaker() as db, db.begin():
                await partner_settings.update(db, admin, reminder_days=[14, 1])
        changing = asyncio.create_task(change())
        if watching.bind.dialect.name == "postgresql":                      # until the change waits for the start
            while not changing.done() and not await _lock_waits(watching):
                await asyncio.sleep(0)
            assert not changing.done(), "the change did not wait for the start"
        else:                                                               # SQLite: one writer at a time
            await asyncio.sleep(0)
        await starting.commit()
        await changing
    assert await _open_reminders(sessionmaker, trial.id) == ["trial_warning_1", "trial_warning_14"]
