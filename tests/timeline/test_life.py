"""Whole trial lives replayed day by day with the test clock (SPEC §5, R-NEW-04, R-EX-06, §8)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server import clock
from server.db.models import (
    AuditEvent, ConsentRequest, CustomerOrg, CustomerUser, Deadline, PartnerAccessGrant, Trial, TrialService,
)
from server.domain.trials import lifecycle
from server.domain.timeline import deadlines as timeline
from server.domain.trials.lifecycle import TrialEvent
from server.schema.node import to_global_id
from tests.factories import existing_customer, partner_team
from tests.timeline.conftest import existing_customer_request, new_customer_trial


async def _trial(sessionmaker, trial_id):
    async with sessionmaker() as db:
        return await db.get(Trial, trial_id)


def _expected(arranged, customer_kind, partner_kind):
    return sorted([(e, customer_kind) for e in arranged.customer_admins]
                  + [(e, partner_kind) for e in arranged.partner_admins])


async def test_r_time_01_05_new_customer_90_day_life(sessionmaker, life):
    """Welcome on day 0, warning on day 83, expiry on day 90, access ended and release on day 120."""
    other = await partner_team(sessionmaker)                      # another partner: never emailed
    t = await new_customer_trial(sessionmaker)
    await life.run()
    boss = next(e for e in t.customer_admins if e.startswith("boss"))
    assert life.on(0) == [(boss, "welcome")]
    assert (await _trial(sessionmaker, t.trial_id)).state == "ACTIVE"
    await life.until(125)
    assert life.days() == [0, 83, 90, 120]
    assert life.on(83) == _expected(t, "warning_customer", "warning_partner")
    assert life.on(90) == _expected(t, "expired_customer", "expired_partner")
    assert life.on(120) == sorted((e, "access_ended") for e in t.customer_users)
    ended = {m.subject for m in life.sink.messages if m.kind == "access_ended"}  # users in nb and en
    assert ended == {"Prøvetjenestene i Webex er avsluttet", "Your Webex trial services have ended"}
    everyone = {to for _, to, _ in life.log}
    assert not everyone & set(other.emails.values())
    assert not any("read.only" in to for to in everyone)
    trial = await _trial(sessionmaker, t.trial_id)
    assert trial.state == "RELEASED" and trial.released_at is not None
    async with sessionmaker() as db:
        users = list(await db.scalars(select(CustomerUser).where(CustomerUser.customer_id == t.customer_id)))
        assert len(users) == 3 and all(u.moved_to_consumer_at is not None and u.role == "USER" for u in users)
        services = list(await db.scalars(select(TrialService).where(TrialService.trial_id == t.trial_id)))
        assert len(services) == 2 and all(not s.holds and s.site_url is None for s in services)
        assert await db.get(PartnerAccessGrant, (t.customer_id, t.partner_id)) is None
        assert (await db.get(CustomerOrg, t.customer_id)).managing_partner_id is None
        actions = list(await db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == t.trial_id, AuditEvent.subject_type == "Trial",
                                                                        AuditEvent.actor == "system")
                                          .order_by(AuditEvent.id)))
        assert actions == ["trial.provisioned", "trial.warning_sent", "trial.expired",
                           "trial.users_access_ended", "trial.released"]


async def test_r_time_04_every_user_gets_the_access_ended_email_once_30_days_after_the_end(sessionmaker, life):
    """R-TIME-04: users (plain users too, not only admins) learn on day end+30 that the trial services are gone."""
    t = await new_customer_trial(sessionmaker, days=30)
    await life.run()
    await life.until(75)
    ended = sorted((day, to) for day, to, kind in life.log if kind == "access_ended")
    assert ended == [(60, to) for to in sorted(t.customer_users)]
    assert set(t.customer_users) > set(t.customer_admins)  # plain users are among them


async def test_r_time_01_warning_seven_days_before_end_to_customer_and_partner_admins(sessionmaker, life):
    t = await new_customer_trial(sessionmaker, days=30)
    await life.until(22)
    assert life.on(22) == []
    await life.advance()
    assert life.on(23) == _expected(t, "warning_customer", "warning_partner")


async def test_r_time_01_customer_warning_links_to_buy_in_the_recipients_locale(sessionmaker, life, smtp_sink):
    t = await new_customer_trial(sessionmaker, days=30)
    await life.until(23)
    warnings = {m.to: m for m in smtp_sink.messages if m.kind == "warning_customer"}
    boss, admin = (warnings[e] for e in t.customer_admins)   # sorted: admin… < boss…
    buy = f"http://testserver/my/trials/{to_global_id('Trial', t.trial_id)}/buy"    # the trial's Buy page (R-BUY-01)
    assert buy in boss.text and buy in admin.text
    nb, en = (boss, admin) if "boss" in boss.to else (admin, boss)
    assert nb.subject == "Prøveversjonen av Webex utløper om 7 dager" and "Kjøp:" in nb.text
    assert en.subject == "Your Webex trial ends in 7 days" and "Buy:" in en.text


async def test_r_ext_01_extended_trial_moves_warning_expiry_and_release(sessionmaker, life):
    t = await new_customer_trial(sessionmaker)
    await life.until(50)
    async with sessionmaker() as db, db.begin():
        trial = await db.get(Trial, t.trial_id)
        trial.ends_at += timedelta(days=30)
        trial.grace_ends_at = trial.ends_at + timeline.GRACE
        lifecycle.transition(trial, TrialEvent.EXTENDED)
        await timeline.plan_trial(db, trial)
    await life.until(155)
    assert life.days() == [0, 113, 120, 150]
    assert life.on(113) == _expected(t, "warning_customer", "warning_partner")
    assert life.on(120) == _expected(t, "expired_customer", "expired_partner")
    assert (await _trial(sessionmaker, t.trial_id)).state == "RELEASED"


async def test_r_ext_01_extending_in_grace_reactivates_and_sends_the_new_warning(sessionmaker, life):
    t = await new_customer_trial(sessionmaker, days=30)
    await life.until(35)                                            # expired on day 30, in grace
    assert (await _trial(sessionmaker, t.trial_id)).state == "EXPIRED"
    async with sessionmaker() as db, db.begin():
        trial = await db.get(Trial, t.trial_id)
        trial.ends_at += timedelta(days=30)                         # now ends on day 60
        trial.grace_ends_at = trial.ends_at + timeline.GRACE
        lifecycle.transition(trial, TrialEvent.EXTENDED)
        await timeline.plan_trial(db, trial)
    await life.until(95)
    assert life.days() == [0, 23, 30, 53, 60, 90]
    assert life.on(53) == _expected(t, "warning_customer", "warning_partner")


async def test_r_time_03_trial_converted_in_grace_is_never_released(sessionmaker, life):
    """Converted on day 95; even the old end deadlines, left in place, change nothing."""
    t = await new_customer_trial(sessionmaker)
    await life.until(95)
    async with sessionmaker() as db, db.begin():
        trial = await db.get(Trial, t.trial_id)
        lifecycle.transition(trial, TrialEvent.CONVERTED)
        trial.converted_at = clock.now()
    await life.until(140)
    assert life.days() == [0, 83, 90]
    assert (await _trial(sessionmaker, t.trial_id)).state == "CONVERTED"
    async with sessionmaker() as db:
        users = list(await db.scalars(select(CustomerUser).where(CustomerUser.customer_id == t.customer_id)))
        assert len(users) == 3 and all(u.moved_to_consumer_at is None for u in users)
        assert await db.get(PartnerAccessGrant, (t.customer_id, t.partner_id)) is not None
        open_left = await db.scalar(select(func.count()).select_from(Deadline).where(
            Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None)))
        assert open_left == 0


async def test_r_ex_06_consent_request_times_out_on_day_30(sessionmaker, life):
    customer_id = await existing_customer(sessionmaker)
    t = await existing_customer_request(sessionmaker, customer_id)
    await life.until(29)
    assert (await _trial(sessionmaker, t.trial_id)).state == "PENDING_CONSENT"
    await life.advance()
    async with sessionmaker() as db:
        trial = await db.get(Trial, t.trial_id)
        request = await db.get(ConsentRequest, t.request_id)
        assert (trial.state, request.status) == ("CANCELLED", "EXPIRED")
        assert request.nonce != "n0"                               # the old links die
        service = await db.scalar(select(TrialService).where(TrialService.trial_id == t.trial_id))
        assert service.holds is False                              # Calling is available again
        assert await db.get(PartnerAccessGrant, (customer_id, t.partner_id)) is None
        assert (await db.get(CustomerOrg, customer_id)).managing_partner_id is None
    assert [kind for _, _, kind in life.log] == ["consent_lapsed"]  # to the partner user who asked (issue 27)


async def test_r_time_05_release_keeps_an_org_that_has_purchased_services(sessionmaker, life):
    """Decision: a paying org keeps its users and admins; only the trial's services go."""
    t = await new_customer_trial(sessionmaker, days=30)
    async with sessionmaker() as db, db.begin():
        from server.db.models import PurchasedService

        db.add(PurchasedService(customer_id=t.customer_id, service="CALLING"))
    await life.until(61)
    async with sessionmaker() as db:
        assert (await db.get(Trial, t.trial_id)).state == "RELEASED"
        users = list(await db.scalars(select(CustomerUser).where(CustomerUser.customer_id == t.customer_id)))
        assert all(u.moved_to_consumer_at is None for u in users)
        assert {u.role for u in users} == {"FULL_ADMIN", "ADMIN", "USER"}
