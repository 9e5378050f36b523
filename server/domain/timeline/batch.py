"""The trials of one sweep batch, read and written set-based (O(rows due), ≥ 10k transitions/s).

A deadline rule (server/domain/trials/end_of_life.py) is a *plan*: a pure decision over one loaded trial that
records what must change in the `DueTrials` it was given (state moves, audit events, emails). `load()`
reads every trial of the batch (locked), its customer's and partner's names and the recipients the
rules need in a few queries however many deadlines there are; `apply()` writes what the plans
recorded in a few statements. A single deadline goes through the same path as a batch of one, so
each rule is written once.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerOrg, PartnerOrg, Trial
from server.domain.core import audit
from server.domain.trials import lifecycle
from server.domain.notifications import outbox
from server.domain.notifications import recipients
from server.domain.timeline import set_based
from server.domain.core.actor import SYSTEM
from server.domain.trials.lifecycle import TrialEvent
from server.domain.notifications.outbox import EmailKind


class Audience(StrEnum):
    CUSTOMER_ADMINS = "customer_admins"
    CUSTOMER_USERS = "customer_users"
    PARTNER_ADMINS = "partner_admins"


@dataclass
class DueTrial:
    """The columns of a trial the rules read; `lifecycle.transition` moves it like a Trial row."""
    id: int
    customer_id: int
    partner_id: int
    started_by_user_id: int | None
    state: str
    version: int
    ends_at: datetime | None
    grace_ends_at: datetime | None
    customer_name: str
    partner_name: str


def context(trial: Any, customer_name: str, partner_name: str, **extra: Any) -> dict[str, Any]:
    """What every trial email may say about its trial."""
    return {"customer_name": customer_name, "partner_name": partner_name, "trial_id": trial.id,
            "ends_at": trial.ends_at.date().isoformat() if trial.ends_at else None, **extra}


@dataclass
class DueTrials:
    trials: dict[int, DueTrial]
    recipients: dict[Audience, dict[int, list[recipients.Recipient]]] = field(default_factory=dict)
    #: The partner's copies, per email kind (R-SET-01: each kind has the roles the partner chose).
    partner_copies: dict[str, dict[int, list[recipients.Recipient]]] = field(default_factory=dict)
    moved: dict[int, DueTrial] = field(default_factory=dict)
    audits: list[dict[str, Any]] = field(default_factory=list)
    emails: list[outbox.Email] = field(default_factory=list)

    def people(self, audience: Audience, trial: DueTrial, kind: EmailKind) -> list[recipients.Recipient]:
        """Customer audiences are keyed by customer, the partner's admins by email kind and trial."""
        if audience is Audience.PARTNER_ADMINS:
            return self.partner_copies[kind.value].get(trial.id, [])
        return self.recipients[audience].get(trial.customer_id, [])

    def context(self, trial: DueTrial, **extra: Any) -> dict[str, Any]:
        return context(trial, trial.customer_name, trial.partner_name, **extra)

    def move(self, trial: DueTrial, event: TrialEvent) -> tuple[str, str]:
        moved = lifecycle.transition(trial, event)
        self.moved[trial.id] = trial
        return moved

    def audit(self, action: str, trial: DueTrial, **values: Any) -> None:
        self.audits.append(audit.event(SYSTEM, action, "Trial", trial.id, customer_id=trial.customer_id,
                                       partner_id=trial.partner_id, **values))

    def send(self, kind: EmailKind, trial: DueTrial, audience: Audience, event: str,
             context: dict[str, Any]) -> None:
        """Queue `kind` to each of the audience once for `event` (the dedup key adds the recipient)."""
        for email, locale in self.people(audience, trial, kind):
            self.emails.append(outbox.Email(kind, email, f"trial:{trial.id}:{event}", context, locale,
                                            trial.customer_id, trial.id))


async def load(db: AsyncSession, trial_ids: Iterable[int], audiences: Iterable[Audience] = (),
               partner_copies: Iterable[EmailKind] = ()) -> DueTrials:
    """Lock the trials (FOR UPDATE on PostgreSQL; SQLite's writer lock is already held) and read
    what their rules need: one query for the trials, one per customer audience, a few per kind of
    the partner's copies (`partner_copies`: the kinds sent to Audience.PARTNER_ADMINS)."""
    ids = sorted(set(trial_ids))
    await db.flush()                               # ORM changes earlier in this transaction first
    t = Trial.__table__
    rows = await db.execute(
        select(t.c.id, t.c.customer_id, t.c.partner_id, t.c.started_by_user_id, t.c.state, t.c.version, t.c.ends_at,
               t.c.grace_ends_at, CustomerOrg.name, PartnerOrg.name)
        .join(CustomerOrg, CustomerOrg.id == t.c.customer_id).join(PartnerOrg, PartnerOrg.id == t.c.partner_id)
        .where(set_based.among(db, t.c.id, ids)).order_by(t.c.id).with_for_update(of=t))
    due = DueTrials({row[0]: DueTrial(*row) for row in rows})
    for audience in set(audiences) - {Audience.PARTNER_ADMINS}:
        of = recipients.customer_admins_of if audience is Audience.CUSTOMER_ADMINS else recipients.customer_users_of
        due.recipients[audience] = await of(db, {trial.customer_id for trial in due.trials.values()})
    for kind in set(partner_copies):
        due.partner_copies[kind.value] = await recipients.partner_admins_of(db, due.trials.values(), kind)
    return due


async def apply(db: AsyncSession, due: DueTrials) -> None:
    """Write what the plans recorded: trial moves, audit events, outbox rows, one statement each."""
    if due.moved:
        await set_based.update_rows(db, Trial.__table__, "id", [
            {"id": trial.id, "state": trial.state, "version": trial.version} for trial in due.moved.values()])
        identity_map = db.sync_session.identity_map       # an ORM copy in this session must not be stale;
        for key in list(identity_map.keys()):               # the map is small, the batch need not be
            if key[0] is Trial and key[1][0] in due.moved:
                db.expire(identity_map[key])
    await audit.record_many(db, due.audits)
    await outbox.enqueue_many(db, due.emails)
