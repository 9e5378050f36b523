"""R-SET-01: the warning (R-TIME-01) goes out on each reminder day the partner chose, once; changing
the days re-plans every live trial's pending reminders in the same transaction; a start plans the
partner's days (on PostgreSQL in the start's one statement); the partner's copy goes to the roles it
chose. Both the sweep's Python plans (SQLite) and its SQL statements (PostgreSQL) run here."""
from __future__ import annotations

from sqlalchemy import select

from server.db.models import Deadline, OutboxEmail, Trial
from server.enums import Role
from tests.helpers import gql
from tests.trials.conftest import START, new_customer_input
from tests.settings.kit import update
from tests.timeline.conftest import new_customer_trial

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
