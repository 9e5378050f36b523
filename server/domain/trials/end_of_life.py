"""The end of a trial's life, as its deadlines come due (SPEC §5): R-TIME-01 and R-SET-01 reminders,
R-TIME-02 expiry, R-TIME-04 access ended, R-TIME-05/06 release at the grace end. The trial end rules
(reminders, expiry, access ended) are plans over loaded rows made batch handlers by `trial_rule`:
the sweep applies a whole batch of them set-based (server/domain/timeline/batch.py; on PostgreSQL
their SQL twins in server/domain/trials/sql.py), and one deadline is a batch of one. The registry
server/domain/deadline_handlers.py names each kind's handler.

Every handler locks its subject, re-checks that the event still applies (state and date), moves
the trial through `lifecycle.transition`, audits as SYSTEM and queues its emails with dedup keys
naming the event and the date it is for, so a re-applied deadline changes nothing and sends
nothing twice. A stale deadline (the trial was extended, converted, cancelled) does nothing.

Decisions (SPEC silent):
- R-TIME-05 release moves the users to the consumer org, drops admin roles and the partner's
  access only when the org has nothing else: no purchased service and no other live trial. An
  existing paying customer keeps its org; only the trial's services are released.
- R-TIME-04: the access-ended email goes to every user of the org (USER role too). If the grace
  end handler runs first, it sends that email before the users move (same dedup key).
- R-TIME-02/07: the API derives the subscription status from the trials (server/domain/trials/status.py):
  an EXPIRED trial reads TRIAL_EXPIRED, so expiry stores nothing on the org. The stored column is
  what the derivation falls back to once no trial holds: a whole org released stores RELEASED there
  (not ACTIVE, which means paying); an org that keeps living keeps its own status.
- Released is irreversible, not invisible: the partner loses its access grant and stops managing
  the org, yet still reads the customer, its released trial and its history
  (`visibility.customer_condition`).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import (
    CustomerOrg, CustomerUser, Deadline, PartnerAccessGrant, PurchasedService, Trial, TrialService,
)
from server.domain.calling import numbers
from server.domain.core import audit
from server.domain.devices import shipments
from server.domain.timeline import batch as due_trials
from server.domain.trials import sql as due_trials_sql
from server.domain.trials import lifecycle
from server.domain.trials import provisioning
from server.domain.timeline import deadlines as timeline
from server.domain.core.actor import SYSTEM
from server.domain.timeline.batch import Audience, DueTrial, DueTrials
from server.domain.trials.sql import ENDS_ISO, GRACE_END, GRACE_END_DAY, Send, Statement
from server.domain.trials.lifecycle import TrialEvent
from server.domain.notifications.outbox import EmailKind
from server.domain.timeline.deadlines import BatchHandler
from server.domain.usage import partitions as usage_partitions
from server.enums import CustomerRole, SubscriptionStatus, TrialState


def _day(value) -> str:
    return value.date().isoformat()


def _grace_end(trial):
    return trial.grace_ends_at or (trial.ends_at + timeline.GRACE)


def _grace_over(trial, now) -> bool:
    return trial is not None and trial.state == TrialState.EXPIRED.value and _grace_end(trial) <= now


PlanRule = Callable[[DueTrials, DueTrial, datetime], None]


def trial_rule(*audiences: Audience, partner_copies: tuple[EmailKind, ...] = (),
               postgres: due_trials_sql.Statement | None = None) -> Callable[[PlanRule], BatchHandler]:
    """Make a plan (a pure decision over one loaded trial) a batch handler, for a batch of deadlines
    and for one: load the trials, the customer `audiences` and the partner's people for each of
    `partner_copies` set-based, plan each, apply. The registry (server/domain/deadline_handlers.py)
    names its deadline kind. On PostgreSQL a batch runs the rule's `postgres` statement instead
    (server/domain/trials/sql.py: the same rule in one statement, held equal to the plan by
    tests/trials/test_end_of_life_sql.py)."""
    def batch_handler(plan: PlanRule) -> BatchHandler:
        async def handle(db: AsyncSession, deadlines) -> None:
            now = clock.now()
            if postgres is not None and due_trials_sql.applies(db):
                await due_trials_sql.apply(db, postgres, [d.subject_id for d in deadlines], now)
                return
            due = await due_trials.load(db, [d.subject_id for d in deadlines], audiences, partner_copies)
            for deadline in deadlines:
                trial = due.trials.get(deadline.subject_id)
                if trial is not None:
                    plan(due, trial, now)
            await due_trials.apply(db, due)
        handle.__doc__ = plan.__doc__
        return handle
    return batch_handler


def _reminder_event(base: str, days: int) -> str:
    """The event a reminder's dedup key names: R-TIME-01's 7-day warning keeps its name, the
    partner's other days (R-SET-01) add theirs, so each day's reminder is sent once."""
    return base if days == 7 else f"{base}_{days}d"


def reminder_rule(days: int) -> BatchHandler:
    """R-TIME-01 / R-SET-01: the warning `days` before the end, to customer admins (with the Buy
    link) and the partner's people, for each day the partner chose (its own deadline kind). Never
    once the end has passed (the sweep ran late): the expiry emails say what is true then."""
    customer_event, partner_event = _reminder_event("warning_customer", days), _reminder_event("warning_partner", days)

    @trial_rule(Audience.CUSTOMER_ADMINS, partner_copies=(EmailKind.WARNING_PARTNER,),
                postgres=Statement(
        applies=f"x.state = '{TrialState.ACTIVE}' AND x.ends_at - interval '{days} days' <= CAST($2 AS timestamptz)"
                f" AND x.ends_at > CAST($2 AS timestamptz)",
        action="trial.warning_sent",
        after=f"jsonb_build_object('state', '{TrialState.ACTIVE}', 'ends_at', {ENDS_ISO}, 'days_left', {days})",
        context=(("days_left", str(days)),),
        sends=(Send(EmailKind.WARNING_CUSTOMER, Audience.CUSTOMER_ADMINS, customer_event),
               Send(EmailKind.WARNING_PARTNER, Audience.PARTNER_ADMINS, partner_event))))
    def on_reminder(due: DueTrials, trial: DueTrial, now: datetime) -> None:
        if trial.state != TrialState.ACTIVE.value or trial.ends_at - timedelta(days=days) > now:
            return
        if trial.ends_at <= now:  # run late (an outage, a clock jump): the end it announces has passed
            return
        context = due.context(trial, days_left=days)
        end = _day(trial.ends_at)
        due.send(EmailKind.WARNING_CUSTOMER, trial, Audience.CUSTOMER_ADMINS, f"{customer_event}:{end}", context)
        due.send(EmailKind.WARNING_PARTNER, trial, Audience.PARTNER_ADMINS, f"{partner_event}:{end}", context)
        # The webhook's trial.expiring_soon object: the trial's state as every trial event has it, and the days left.
        due.audit("trial.warning_sent", trial, after={"state": trial.state, "ends_at": trial.ends_at.isoformat(),
                                                      "days_left": days})
    return on_reminder


REMINDER_RULES = {days: reminder_rule(days) for days in timeline.REMINDER_KINDS}
on_trial_warning = REMINDER_RULES[7]


@trial_rule(Audience.CUSTOMER_ADMINS, partner_copies=(EmailKind.EXPIRED_PARTNER,),
            postgres=Statement(
    applies="x.ends_at <= CAST($2 AS timestamptz)", move=(TrialState.ACTIVE, TrialEvent.EXPIRED),
    action="trial.expired",
    context=(("grace_ends_at", GRACE_END_DAY),),
    sends=(Send(EmailKind.EXPIRED_CUSTOMER, Audience.CUSTOMER_ADMINS, "expired_customer"),
           Send(EmailKind.EXPIRED_PARTNER, Audience.PARTNER_ADMINS, "expired_partner"))))
def on_trial_expiry(due: DueTrials, trial: DueTrial, now: datetime) -> None:
    """R-TIME-02: on the end day the trial is EXPIRED (grace begins) and both emails go out again.
    The customer's subscription status reads TRIAL_EXPIRED from the EXPIRED trial (status.derive)."""
    if trial.state != TrialState.ACTIVE.value or trial.ends_at > now:
        return
    before, after = due.move(trial, TrialEvent.EXPIRED)
    due.audit("trial.expired", trial, before={"state": before}, after={"state": after})
    context = due.context(trial, grace_ends_at=_day(_grace_end(trial)))
    end = _day(trial.ends_at)
    due.send(EmailKind.EXPIRED_CUSTOMER, trial, Audience.CUSTOMER_ADMINS, f"expired_customer:{end}", context)
    due.send(EmailKind.EXPIRED_PARTNER, trial, Audience.PARTNER_ADMINS, f"expired_partner:{end}", context)


def _access_ended(due: DueTrials, trial) -> None:
    """R-TIME-04's email to every user of the org (dedup key per grace end: sent once)."""
    due.send(EmailKind.ACCESS_ENDED, trial, Audience.CUSTOMER_USERS, f"access_ended:{_day(_grace_end(trial))}",
             due.context(trial))


@trial_rule(Audience.CUSTOMER_USERS, postgres=Statement(
    applies=f"x.state = '{TrialState.EXPIRED}' AND {GRACE_END} <= CAST($2 AS timestamptz)",
    action="trial.users_access_ended",
    sends=(Send(EmailKind.ACCESS_ENDED, Audience.CUSTOMER_USERS, "access_ended", day=GRACE_END_DAY),)))
def on_users_access_ended(due: DueTrials, trial: DueTrial, now: datetime) -> None:
    """R-TIME-04: 30 days after the end (not converted, not extended) every user is told."""
    if _grace_over(trial, now):
        _access_ended(due, trial)
        due.audit("trial.users_access_ended", trial)


async def _org_keeps_living(db: AsyncSession, trial: Trial) -> bool:
    """True when the org has purchased services or another live trial (then only this trial goes)."""
    purchased = exists(select(PurchasedService.service).where(PurchasedService.customer_id == trial.customer_id))
    other = exists(select(Trial.id).where(Trial.customer_id == trial.customer_id, Trial.id != trial.id,
                                          Trial.state.in_([s.value for s in lifecycle.HOLDING_STATES])))
    return bool(await db.scalar(select(purchased | other)))


async def on_grace_end(db: AsyncSession, deadline: Deadline) -> None:
    """R-TIME-05/06: after grace with no conversion the trial is RELEASED for good: licenses and the
    Meetings site URL are freed, users move to the consumer org, admin roles and the partner's access
    go, calling stops (numbers kept 15 days) and device returns start."""
    trial = await provisioning.locked_trial(db, deadline.subject_id)
    now = clock.now()
    if not _grace_over(trial, now):
        return
    due = await due_trials.load(db, [trial.id], [Audience.CUSTOMER_USERS])
    _access_ended(due, due.trials[trial.id])              # before the users move (same dedup key)
    await due_trials.apply(db, due)
    before, after = lifecycle.transition(trial, TrialEvent.RELEASED)
    trial.released_at = now
    await db.execute(update(TrialService).where(TrialService.trial_id == trial.id)
                     .values(holds=False, site_url=None))
    whole_org = not await _org_keeps_living(db, trial)
    if whole_org:
        await db.execute(update(CustomerUser).where(CustomerUser.customer_id == trial.customer_id,
                                                    CustomerUser.moved_to_consumer_at.is_(None))
                         .values(moved_to_consumer_at=now, role=CustomerRole.USER.value))
        await db.execute(delete(PartnerAccessGrant).where(PartnerAccessGrant.customer_id == trial.customer_id,
                                                          PartnerAccessGrant.partner_id == trial.partner_id))
        await db.execute(update(CustomerOrg).where(CustomerOrg.id == trial.customer_id,
                                                   CustomerOrg.managing_partner_id == trial.partner_id)
                         .values(managing_partner_id=None))
        await db.execute(update(CustomerOrg).where(CustomerOrg.id == trial.customer_id)
                         .values(subscription_status=SubscriptionStatus.RELEASED.value))
    await numbers.on_grace_end(db, trial)                 # R-TIME-06: calling stops, numbers kept 15 days
    await shipments.start_returns(db, trial)              # R-RMA-01: devices come back
    await usage_partitions.on_release(db, trial)  # R-USE-08: per-user rows go, daily totals stay
    audit.record(db, SYSTEM, "trial.released", "Trial", trial.id, customer_id=trial.customer_id,
                 partner_id=trial.partner_id, before={"state": before},
                 after={"state": after, "users_moved_to_consumer": whole_org})
