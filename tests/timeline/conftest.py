"""Fixtures for time and email: a real SMTP server (aiosmtpd) recording what it accepts, a worker
runtime pointed at it, a day-by-day life runner, and trials arranged as rows."""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from sqlalchemy import exists, select

from jobs.runtime import Runtime
from jobs.sweep import run_due
from server import clock
from server.db.models import (
    ConsentRequest, CustomerOrg, CustomerUser, Deadline, OutboxEmail, PartnerAccessGrant, Trial, TrialService,
)
from server.domain.timeline import deadlines as timeline
from server.enums import ConsentStatus, CustomerRole, TrialKind, TrialState
from tests.factories import partner_team


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    message_id: str
    to: str
    subject: str
    kind: str
    text: str
    at: float
    sender: str = ""
    reply_to: str | None = None
    html: str | None = None


class SinkHandler:
    """Records every accepted message; `refuse` answers DATA with that SMTP code instead."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refuse: int | None = None
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            return f"{self.refuse} refused by the test"
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",))
        for rcpt in envelope.rcpt_tos:
            self.messages.append(Received(msg["Message-ID"], rcpt.lower(), str(msg["Subject"]),
                                          msg["X-Trialdesk-Kind"], text, time.time(), str(msg["From"]),
                                          msg["Reply-To"] and str(msg["Reply-To"]),
                                          html.get_content() if html is not None else None))
        return "250 OK"


@dataclass
class SmtpSink:
    port: int
    handler: SinkHandler
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages


@pytest.fixture
def smtp_sink():
    sink = SmtpSink(free_port(), SinkHandler())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def runtime(app, settings, smtp_sink) -> Runtime:
    """The worker's runtime on the app's engine, sending to the SMTP sink."""
    worker_settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp_sink.port})
    return Runtime(settings=worker_settings, engine=app.state.engine, sessionmaker=app.state.sessionmaker)


@dataclass
class Life:
    """Runs the clock day by day and records each delivered email as (day, recipient, kind).

    Each day the clock moves one day and, in the same transaction, one query asks whether any
    deadline is open and due or any email unsent; only then does the day run the worker's sweep
    (`run_due`). A day with neither is a day on which `run_due` finds nothing to claim (its claims
    read a subset of those rows), so skipping its five transactions changes nothing but the time:
    most days of a 125-day life are quiet (~25 ms of ~35 per day on PostgreSQL, 2026-11-30)."""
    sessionmaker: object
    runtime: Runtime
    sink: SmtpSink
    day: int = 0
    started: bool = False
    log: list[tuple[int, str, str]] = field(default_factory=list)

    async def run(self) -> None:
        self.started = True
        seen = len(self.sink.messages)
        await run_due(self.runtime)
        self.log += [(self.day, m.to, m.kind) for m in self.sink.messages[seen:]]

    async def advance(self, days: int = 1) -> None:
        if not self.started:                    # day 0 itself first (provisioning, welcome)
            await self.run()
        for _ in range(days):
            async with self.sessionmaker() as db, db.begin():
                now = await clock.advance(db, timedelta(days=1))
                pending = await db.scalar(select(
                    exists().where(Deadline.done_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at <= now)
                    | exists().where(OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None))))
            self.day += 1
            if pending:
                await self.run()

    async def until(self, day: int) -> None:
        await self.advance(day - self.day)

    def on(self, day: int) -> list[tuple[str, str]]:
        return sorted((to, kind) for d, to, kind in self.log if d == day)

    def days(self) -> list[int]:
        return sorted({d for d, _, _ in self.log})


@pytest_asyncio.fixture
async def life(sessionmaker, runtime, smtp_sink) -> Life:
    return Life(sessionmaker, runtime, smtp_sink)


@dataclass
class Arranged:
    trial_id: int
    customer_id: int
    partner_id: int
    team: object
    customer_admins: list[str]
    customer_users: list[str]
    partner_admins: list[str]
    request_id: int | None = None


_n = iter(range(1, 10**9))


async def managed_customer(db, partner_id: int, now, n: int, domain: str, provisioning_status: str,
                           people) -> CustomerOrg:
    """A Norwegian customer org managed by `partner_id` (full-admin access) and its users, each
    (email, role, locale[, moved_to_consumer_at])."""
    customer = CustomerOrg(name=f"Kunde {n} AS", business_vertical="Other", country="NO", region="EU",
                           admin_email=f"boss{n}@{domain}", managing_partner_id=partner_id,
                           provisioning_status=provisioning_status, subscription_status="ACTIVE", locale="nb",
                           region_locked=False, created_at=now)
    db.add(customer)
    await db.flush()
    db.add_all([CustomerUser(customer_id=customer.id, email=email, role=role.value, locale=locale,
                             moved_to_consumer_at=moved[0] if moved else None, created_at=now)
                for email, role, locale, *moved in people])
    db.add(PartnerAccessGrant(customer_id=customer.id, partner_id=partner_id, access="FULL_ADMIN", granted_at=now))
    return customer


async def new_customer_trial(sessionmaker, *, days: int = 90, team=None, site: str | None = None,
                             site_missing: bool = False) -> Arranged:
    """A new customer (full admin in nb, an admin and a user in en) and its trial, pending
    provisioning with a PROVISION deadline due now, as the lifecycle flow leaves it."""
    team = team or await partner_team(sessionmaker)
    from server.enums import Role

    n = next(_n)
    async with sessionmaker() as db, db.begin():
        await clock.refresh(db)
        now = clock.now()
        people = [(f"boss{n}@kunde{n}.example", CustomerRole.FULL_ADMIN, "nb"),
                  (f"admin{n}@kunde{n}.example", CustomerRole.ADMIN, "en"),
                  (f"user{n}@kunde{n}.example", CustomerRole.USER, "en")]
        customer = await managed_customer(db, team.partner_id, now, n, f"kunde{n}.example", "PROVISIONING", people)
        trial = Trial(customer_id=customer.id, partner_id=team.partner_id,
                      started_by_user_id=team.user_ids[Role.SALES_ADMIN], kind=TrialKind.NEW_CUSTOMER.value,
                      state=TrialState.PENDING_PROVISIONING.value, license_count=10, duration_days=days,
                      starts_at=now, ends_at=now + timedelta(days=days),
                      grace_ends_at=now + timedelta(days=days) + timeline.GRACE, version=1, created_at=now)
        db.add(trial)
        await db.flush()
        db.add_all([
            TrialService(trial_id=trial.id, customer_id=customer.id, service="MESSAGING", license_count=10, holds=True),
            TrialService(trial_id=trial.id, customer_id=customer.id, service="MEETINGS", license_count=10, holds=True,
                         meetings_edition="ENTERPRISE", site_url=None if site_missing else (site or f"kunde{n}.webex.com"),
                         time_zone="Europe/Oslo"),
        ])
        await db.flush()
        await timeline.plan_trial(db, trial)
        timeline.schedule(db, timeline.DeadlineKind.PROVISION, "Trial", trial.id, now)
    partner_admins = sorted(team.emails[r] for r in (Role.PARTNER_FULL_ADMIN, Role.PARTNER_ADMIN,
                                                     Role.SALES_FULL_ADMIN, Role.SALES_ADMIN))
    return Arranged(trial.id, customer.id, team.partner_id, team, sorted(e for e, r, _ in people[:2]),
                    sorted(e for e, _, _ in people), partner_admins)


async def existing_customer_request(sessionmaker, customer_id: int, team=None) -> Arranged:
    """A trial request to an existing org, pending consent, with its 30-day CONSENT_TIMEOUT."""
    team = team or await partner_team(sessionmaker)
    from server.enums import Role

    async with sessionmaker() as db, db.begin():
        await clock.refresh(db)
        now = clock.now()
        trial = Trial(customer_id=customer_id, partner_id=team.partner_id,
                      started_by_user_id=team.user_ids[Role.SALES_ADMIN], kind=TrialKind.EXISTING_CUSTOMER.value,
                      state=TrialState.PENDING_CONSENT.value, license_count=5, duration_days=60, version=1,
                      created_at=now)
        db.add(trial)
        await db.flush()
        db.add(TrialService(trial_id=trial.id, customer_id=customer_id, service="CALLING", license_count=5,
                            holds=True, pstn="CCP"))
        customer = await db.get(CustomerOrg, customer_id)
        request = ConsentRequest(trial_id=trial.id, customer_id=customer_id, partner_id=team.partner_id,
                                 admin_email=customer.admin_email, status=ConsentStatus.PENDING.value, nonce="n0",
                                 expires_at=now + timeline.CONSENT_WINDOW, sent_count=1, created_at=now)
        db.add(request)
        await db.flush()
        timeline.schedule(db, timeline.DeadlineKind.CONSENT_TIMEOUT, "ConsentRequest", request.id, request.expires_at)
    return Arranged(trial.id, customer_id, team.partner_id, team, [], [], [], request_id=request.id)


async def emails_in_db(sessionmaker) -> list[OutboxEmail]:
    async with sessionmaker() as db:
        return list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
