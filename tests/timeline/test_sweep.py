"""The sweep: exactly once, idempotent handlers, failures retried without blocking (SPEC §5, R-NEW-04)."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from jobs.runtime import Runtime
from jobs.sweep import run_deadlines, run_due
from server import clock
from server.db.engine import make_engine, make_sessionmaker
from server.db.models import AuditEvent, CustomerOrg, Deadline, OutboxEmail, Trial, TrialService
from server.domain.trials import provisioning
from server.domain import deadline_handlers
from server.domain.core.actor import Actor, ActorKind
from server.enums import Role
from tests.timeline.conftest import emails_in_db, new_customer_trial


async def test_r_new_04_provisioning_makes_the_trial_active_and_welcomes_the_admin(sessionmaker, runtime, smtp_sink):
    t = await new_customer_trial(sessionmaker)
    report = await run_due(runtime)
    assert report.deadlines == 1 and report.emails == 1
    async with sessionmaker() as db:
        trial = await db.get(Trial, t.trial_id)
        customer = await db.get(CustomerOrg, t.customer_id)
    assert trial.state == "ACTIVE"
    assert (customer.provisioning_status, customer.region_locked) == ("PROVISIONED", True)
    [welcome] = smtp_sink.messages
    assert welcome.kind == "welcome" and welcome.to.startswith("boss")
    assert welcome.subject == "Velkommen til prøveversjonen av Webex"       # the admin's locale is nb
    assert "Logg på: http://testserver/my" in welcome.text


async def test_r_new_04_failure_is_unable_to_provision_with_reason_then_retried(sessionmaker, runtime, smtp_sink):
    t = await new_customer_trial(sessionmaker, site_missing=True)
    await run_due(runtime)
    async with sessionmaker() as db:
        customer = await db.get(CustomerOrg, t.customer_id)
        assert customer.provisioning_status == "UNABLE_TO_PROVISION"
        assert "site URL" in customer.provisioning_error
        assert (await db.get(Trial, t.trial_id)).state == "PENDING_PROVISIONING"
    assert smtp_sink.messages == []
    async with sessionmaker() as db, db.begin():
        service = await db.scalar(select(TrialService).where(TrialService.trial_id == t.trial_id,
                                                             TrialService.service == "MEETINGS"))
        service.site_url = f"fixed{t.trial_id}.webex.com"
        actor = Actor(kind=ActorKind.PARTNER_USER, user_id=t.team.user_ids[Role.PARTNER_ADMIN],
                      partner_id=t.partner_id, roles=frozenset({Role.PARTNER_ADMIN}), email="pa@x.example")
        await provisioning.retry_provisioning(db, actor, t.trial_id)
    await run_due(runtime)
    async with sessionmaker() as db:
        customer = await db.get(CustomerOrg, t.customer_id)
        assert (customer.provisioning_status, customer.provisioning_error) == ("PROVISIONED", None)
        assert (await db.get(Trial, t.trial_id)).state == "ACTIVE"
    assert [m.kind for m in smtp_sink.messages] == ["welcome"]


async def test_r_time_handlers_reapplied_change_nothing_and_send_nothing_twice(sessionmaker, runtime, smtp_sink):
    t = await new_customer_trial(sessionmaker, days=30)
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=61))
    await run_due(runtime)
    sent = len(smtp_sink.messages)
    async with sessionmaker() as db, db.begin():
        await clock.refresh(db)
        for deadline in await db.scalars(select(Deadline).where(Deadline.subject_id == t.trial_id,
                                                                Deadline.subject_type == "Trial")):
            await deadline_handlers.HANDLERS[deadline.kind](db, deadline)       # applied a second time
    await run_due(runtime)
    assert len(smtp_sink.messages) == sent
    async with sessionmaker() as db:
        assert (await db.get(Trial, t.trial_id)).state == "RELEASED"
        releases = await db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "trial.released"))
    assert releases == 1


async def test_r_time_missed_days_are_caught_up_in_due_order(sessionmaker, runtime, smtp_sink):
    """The worker was down for the trial's whole life: one sweep applies everything in order, and
    sends no warning whose moment passed the end it announces (issue 27 item 12)."""
    t = await new_customer_trial(sessionmaker, days=30)
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=70))
    await run_due(runtime)
    kinds = [m.kind for m in smtp_sink.messages]
    assert kinds.index("welcome") < kinds.index("expired_customer") < kinds.index("access_ended")
    assert "warning_customer" not in kinds and "warning_partner" not in kinds
    assert Counter(kinds)["access_ended"] == len(t.customer_users)
    async with sessionmaker() as db:
        assert (await db.get(Trial, t.trial_id)).state == "RELEASED"


async def test_r_time_a_failing_deadline_backs_off_and_never_blocks_the_others(sessionmaker, runtime, smtp_sink):
    async def boom(db, deadline):
        raise RuntimeError("provider unavailable")

    deadline_handlers.HANDLERS["test_boom"] = boom
    try:
        async with sessionmaker() as db, db.begin():
            await clock.refresh(db)
            db.add(Deadline(kind="test_boom", subject_type="Trial", subject_id=0, due_at=clock.now() - timedelta(hours=1),
                            attempts=0, created_at=clock.now()))
        t = await new_customer_trial(sessionmaker)
        report = await run_due(runtime)
        assert report.deadlines == 1 and len(report.failures) == 1
        async with sessionmaker() as db:
            bad = await db.scalar(select(Deadline).where(Deadline.kind == "test_boom"))
            assert bad.attempts == 1 and bad.done_at is None and "provider unavailable" in bad.last_error
            assert bad.next_attempt_at > clock.now()
            assert (await db.get(Trial, t.trial_id)).state == "ACTIVE"
        assert (await run_due(runtime)).failures == []                # backing off: not tried again yet
        deadline_handlers.HANDLERS["test_boom"] = lambda db, deadline: asyncio.sleep(0)
        async with sessionmaker() as db, db.begin():
            await clock.advance(db, timedelta(minutes=2))
        report = await run_due(runtime)
        assert report.deadlines == 1 and report.failures == []
    finally:
        deadline_handlers.HANDLERS.pop("test_boom", None)


async def test_r_time_two_sweeps_at_once_apply_each_deadline_and_send_each_email_once(
        sessionmaker, runtime, smtp_sink, settings):
    arranged = [await new_customer_trial(sessionmaker, days=30) for _ in range(6)]
    await run_due(runtime)
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=61))
    other_engine = make_engine(settings.database_url)
    other = Runtime(settings=runtime.settings, engine=other_engine, sessionmaker=make_sessionmaker(other_engine))
    try:
        await asyncio.gather(run_due(runtime), run_due(other), run_due(runtime))
    finally:
        await other_engine.dispose()
    ids = Counter(m.message_id for m in smtp_sink.messages)
    assert ids and max(ids.values()) == 1
    rows = await emails_in_db(sessionmaker)
    assert len(rows) == len(ids) and all(r.sent_at for r in rows)
    async with sessionmaker() as db:
        expired = await db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "trial.expired"))
        states = set(await db.scalars(select(Trial.state)))
    assert expired == len(arranged) and states == {"RELEASED"}


async def test_r_time_sweep_reads_only_due_rows_through_the_partial_index(sessionmaker, runtime):
    """Cost is O(rows due): the claim query is planned on ix_deadlines_open_due."""
    from sqlalchemy.dialects import postgresql, sqlite

    from jobs.sweep import due_query

    async with sessionmaker() as db:
        await clock.refresh(db)
        postgres = db.bind.dialect.name == "postgresql"
        stmt = due_query(clock.now(), 100, postgres)
        dialect = postgresql.dialect() if postgres else sqlite.dialect()
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if postgres:
            from sqlalchemy import text

            await db.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(str(r[-1]) for r in await db.execute(
            __import__("sqlalchemy").text(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql)))
    assert "ix_deadlines_open_due" in plan, plan


async def test_r_time_deadline_rows_survive_and_are_kept_as_history(sessionmaker, runtime):
    t = await new_customer_trial(sessionmaker, days=30)
    async with sessionmaker() as db, db.begin():
        await clock.advance(db, timedelta(days=61))
    await run_due(runtime)
    async with sessionmaker() as db:
        done = list(await db.scalars(select(Deadline.kind).where(Deadline.subject_id == t.trial_id,
                                                                 Deadline.done_at.is_not(None))))
        outbox_unsent = await db.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None)))
    assert set(done) >= {"provision", "trial_warning", "trial_expiry", "users_access_ended", "grace_end"}
    assert outbox_unsent == 0


async def test_r_time_a_failing_row_in_a_batch_is_found_by_halving_and_the_others_apply_set_based(
        sessionmaker, runtime):
    """One bad deadline in a group of a batch kind: the others are applied set-based (in halves),
    only the bad one and its last partner go alone; the bad one fails and backs off."""
    calls: list[list[int]] = []

    async def batch(db, deadlines):
        calls.append([d.subject_id for d in deadlines])
        if any(d.subject_id == 5 for d in deadlines):
            raise RuntimeError("provider unavailable")

    deadline_handlers.BATCHED["test_batch"] = batch
    deadline_handlers.HANDLERS["test_batch"] = lambda db, deadline: batch(db, [deadline])
    try:
        async with sessionmaker() as db, db.begin():
            await clock.refresh(db)
            for subject_id in range(1, 9):
                db.add(Deadline(kind="test_batch", subject_type="Test", subject_id=subject_id,
                                due_at=clock.now() - timedelta(hours=1), attempts=0, created_at=clock.now()))
        report = await run_deadlines(runtime, lanes=1)   # one batch of 8 (two lanes would split it)
        assert report.deadlines == 7 and len(report.failures) == 1
        assert calls[0] == list(range(1, 9))                                   # the whole group first,
        assert [c for c in calls if len(c) == 1] == [[5], [6]]                 # halved down to the bad one's pair
        async with sessionmaker() as db:
            rows = list(await db.scalars(select(Deadline).where(Deadline.kind == "test_batch")))
        bad = [row for row in rows if row.done_at is None]
        assert [row.subject_id for row in bad] == [5] and bad[0].attempts == 1
    finally:
        deadline_handlers.BATCHED.pop("test_batch", None)
        deadline_handlers.HANDLERS.pop("test_batch", None)


async def test_r_time_lanes_apply_a_subjects_deadlines_in_due_order(sessionmaker, runtime):
    """Two batches in flight: one subject's deadlines all go to one lane, in due order."""

    seen: list[tuple[int, str]] = []

    def record(name):
        async def handler(db, deadline):
            seen.append((deadline.subject_id, name))
            await asyncio.sleep(0)
        return handler

    for name in ("test_first", "test_second"):
        deadline_handlers.HANDLERS[name] = record(name)
    try:
        async with sessionmaker() as db, db.begin():
            await clock.refresh(db)
            for subject_id in range(1, 7):
                for hours, name in ((3, "test_first"), (2, "test_second")):
                    db.add(Deadline(kind=name, subject_type="Test", subject_id=subject_id,
                                    due_at=clock.now() - timedelta(hours=hours), attempts=0, created_at=clock.now()))
        report = await run_deadlines(runtime, lanes=2)
        assert report.deadlines == 12
        for subject_id in range(1, 7):
            assert [name for s, name in seen if s == subject_id] == ["test_first", "test_second"]
    finally:
        for name in ("test_first", "test_second"):
            deadline_handlers.HANDLERS.pop(name, None)


async def test_set_based_write_failing_in_a_savepoint_rolls_back_that_savepoint_alone(sessionmaker):
    """A set-based statement (run through the asyncpg driver on PostgreSQL) that fails inside a
    savepoint leaves the transaction usable: that savepoint rolls back, the rest commits."""
    import pytest

    from server.domain.core import audit
    from server.domain.timeline import set_based
    from server.domain.core.actor import SYSTEM

    kept = audit.event(SYSTEM, "test.kept", "Trial", 1)
    async with sessionmaker() as db, db.begin():
        await db.execute(select(func.count()).select_from(AuditEvent))         # the transaction has begun
        with pytest.raises(Exception):                                         # noqa: B017 - the driver's or SQLAlchemy's
            async with db.begin_nested():
                await set_based.insert_rows(db, AuditEvent.__table__, [
                    audit.event(SYSTEM, "test.lost", "Trial", 2), {**kept, "actor": None}])   # actor is NOT NULL
        await audit.record_many(db, [kept])
    async with sessionmaker() as db:
        actions = list(await db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("test.%"))))
    assert actions == ["test.kept"]
