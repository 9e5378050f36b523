"""The trial end rules' PostgreSQL statements (server/domain/trials/sql.py) equal their Python
plans (server/domain/trials/end_of_life.py) row for row: the same batch is applied both ways, each in a
transaction rolled back afterwards, and the trials, audit events and outbox rows it wrote are
compared. PostgreSQL only (SQLite runs the plans alone)."""
from __future__ import annotations

import random
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from server import clock
from server.db.models import AuditEvent, OutboxEmail, PartnerSettings, Trial, User
from server.domain import deadline_handlers
from server.domain.timeline.deadlines import DeadlineKind
from server.enums import CustomerRole, Role, TrialKind, TrialState
from server.settings import get_settings
from tests.factories import partner_team
from tests.timeline.conftest import managed_customer

RULES = (DeadlineKind.TRIAL_WARNING, DeadlineKind.TRIAL_WARNING_3, DeadlineKind.TRIAL_EXPIRY,
         DeadlineKind.USERS_ACCESS_ENDED)



async def _arrange(sessionmaker) -> list[int]:
    """Two partners (one admin inactive; the second chose its own partner-copy roles, R-SET-01),
    customers with admins, users, users moved out and one email in two cases, and trials in every
    state and date a rule reads; a dedup key already queued."""
    teams = [await partner_team(sessionmaker), await partner_team(sessionmaker)]
    trial_ids: list[int] = []
    async with sessionmaker() as db, db.begin():
        await clock.refresh(db)
        now = clock.now()
        await db.execute(update(User).where(User.id == teams[1].user_ids[Role.PARTNER_ADMIN]).values(active=False))
        db.add(PartnerSettings(partner_id=teams[1].partner_id, reminder_days=[7, 3], updated_at=now, recipients={
            "warning_partner": [Role.SALES_ADMIN.value, Role.PARTNER_ADMIN.value], "expired_partner": []}))
        starters = [teams[0].user_ids[Role.SALES_ADMIN], teams[0].user_ids[Role.PARTNER_FULL_ADMIN],
                    teams[1].user_ids[Role.SALES_ADMIN], teams[1].user_ids[Role.PARTNER_ADMIN], None]
        cases = [  # (state, ends_at, grace_ends_at)
            (TrialState.ACTIVE, now - timedelta(hours=1), None),
            (TrialState.ACTIVE, now + timedelta(days=3), None),
            (TrialState.ACTIVE, now + timedelta(days=20), None),
            (TrialState.ACTIVE, now - timedelta(days=2, microseconds=-123456), None),
            (TrialState.EXPIRED, now - timedelta(days=31), None),
            (TrialState.EXPIRED, now - timedelta(days=10), now + timedelta(days=20)),
            (TrialState.EXPIRED, now - timedelta(days=5), now - timedelta(minutes=1)),
            (TrialState.CONVERTED, now - timedelta(days=40), None),
        ]
        for n, (state, ends_at, grace_ends_at) in enumerate(cases * 2):
            team = teams[n % 2]
            people = [(f"Boss{n}@K{n}.example", CustomerRole.FULL_ADMIN, "nb", None),
                      (f"admin{n}@k{n}.example", CustomerRole.ADMIN, None, None),
                      (f"boss{n}@k{n}.example", CustomerRole.ADMIN, "en", None),
                      (f"user{n}@k{n}.example", CustomerRole.USER, "en", None),
                      (f"gone{n}@k{n}.example", CustomerRole.ADMIN, "en", now)]
            customer = await managed_customer(db, team.partner_id, now, n, f"k{n}.example", "PROVISIONED", people)
            trial = Trial(customer_id=customer.id, partner_id=team.partner_id, started_by_user_id=starters[n % 5],
                          kind=TrialKind.NEW_CUSTOMER.value, state=state.value, license_count=10, duration_days=90,
                          starts_at=now - timedelta(days=90), ends_at=ends_at, grace_ends_at=grace_ends_at, version=3,
                          created_at=now)
            db.add(trial)
            await db.flush()
            trial_ids.append(trial.id)
        first = await db.get(Trial, trial_ids[0])
        day = first.ends_at.date().isoformat()
        db.add(OutboxEmail(dedup_key=f"trial:{first.id}:expired_customer:{day}:admin0@k0.example", kind="expired_customer",
                           recipient="admin0@k0.example", locale="en", message_id="<queued-before@trialdesk>",
                           created_at=now, attempts=0))
    return trial_ids


async def _apply(sessionmaker, kind: DeadlineKind, trial_ids: list[int]) -> dict:
    """Apply `kind` to the trials in one transaction, read what it wrote, roll it back."""
    async with sessionmaker() as db:
        await db.begin()
        await clock.refresh(db)
        audit_mark = await db.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
        outbox_mark = await db.scalar(select(func.coalesce(func.max(OutboxEmail.id), 0)))
        await deadline_handlers.BATCHED[kind.value](db, [SimpleNamespace(subject_id=i) for i in trial_ids])
        written = {
            "trials": list(await db.execute(select(Trial.id, Trial.state, Trial.version).order_by(Trial.id))),
            "audit": list(await db.execute(
                select(AuditEvent.action, AuditEvent.actor, AuditEvent.subject_type, AuditEvent.subject_id,
                       AuditEvent.partner_id, AuditEvent.customer_id, AuditEvent.before, AuditEvent.after)
                .where(AuditEvent.id > audit_mark).order_by(AuditEvent.id))),
            "outbox": list(await db.execute(
                select(OutboxEmail.dedup_key, OutboxEmail.kind, OutboxEmail.recipient, OutboxEmail.locale,
                       OutboxEmail.customer_id, OutboxEmail.trial_id, OutboxEmail.context, OutboxEmail.attempts,
                       OutboxEmail.subject, OutboxEmail.sent_at)
                .where(OutboxEmail.id > outbox_mark).order_by(OutboxEmail.id))),
            "message_ids": list(await db.scalars(select(OutboxEmail.message_id).where(OutboxEmail.id > outbox_mark))),
        }
        await db.rollback()
    return written


@pytest.mark.parametrize("kind", RULES, ids=lambda kind: kind.value)
async def test_r_time_01_02_04_r_set_01_postgres_statements_equal_the_plans_row_for_row(sessionmaker, postgres, monkeypatch,
                                                                                 kind):
    trial_ids = await _arrange(sessionmaker)
    batch = [*trial_ids, 10**12]                      # a deadline whose trial is gone does nothing
    random.Random(7).shuffle(batch)
    compiled = await _apply(sessionmaker, kind, batch)
    monkeypatch.setattr(get_settings(), "compiled_rules", False)
    planned = await _apply(sessionmaker, kind, batch)

    assert compiled["outbox"], "the arrangement gives the rule emails to queue"
    assert compiled["audit"] and len(compiled["audit"]) < len(trial_ids), "and trials it does not apply to"
    for part in ("trials", "audit", "outbox"):
        assert compiled[part] == planned[part], part
    assert all(re.fullmatch(r"<[0-9a-f]{32}@trialdesk>", m) for m in compiled["message_ids"])
    assert len(set(compiled["message_ids"])) == len(compiled["message_ids"])
