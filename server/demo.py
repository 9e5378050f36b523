"""`trialdesk demo seed`: a demo partner with one user of each role and a few customers.

Idempotent: seeding twice changes nothing. The demo partner gets trials in several states: a new
customer pending provisioning, active paid-customer trials, an existing customer's request
pending consent, and a trial expired and in grace (its dates are moved back directly, as if the
clock had run). Their usage (SPEC §10) shows each adoption health on the first screen: Fjord
Shipping HEALTHY, Lofoten Seafood LOW, Maple Dental INACTIVE, Bergen Arkitekter NOT_STARTED.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import PartnerOrg, Trial
from server.domain.orgs import directory
from server.enums import PartnerTier, Role, ServiceType

DEMO_PARTNER = "Nordlys Partner AS"
DEMO_PASSWORD = "trialdesk-demo"
DEMO_USERS: list[tuple[str, Role]] = [
    ("partner.full@nordlys.example", Role.PARTNER_FULL_ADMIN),
    ("partner.admin@nordlys.example", Role.PARTNER_ADMIN),
    ("sales.full@nordlys.example", Role.SALES_FULL_ADMIN),
    ("sales.admin@nordlys.example", Role.SALES_ADMIN),
    ("readonly@nordlys.example", Role.READ_ONLY),
]
TRIALS_TEAM_USER = "trials.team@platform.example"
#: What `make run` prints (and the README repeats): one who can start a trial first, and what each may do (R-ROLE-02).
SIGN_INS: list[tuple[str, str, str]] = [
    ("sales.full@nordlys.example", "Sales full admin", "start trials; edit, extend, convert, cancel every trial"),
    ("sales.admin@nordlys.example", "Sales admin", "start trials; manage the trials of the customers they started"),
    ("partner.full@nordlys.example", "Partner full admin", "manage every trial; users, API tokens, webhooks"),
    ("partner.admin@nordlys.example", "Partner admin", "edit, extend, convert, cancel every trial"),
    ("readonly@nordlys.example", "Read-only", "see customers, trials and shipments"),
    (TRIALS_TEAM_USER, "Trials team", "record shipments and returns, decide device extensions (/trials-team)"),
]


@dataclass
class SeedResult:
    partner_id: int
    created: bool


async def seed(db: AsyncSession) -> SeedResult:
    existing = await db.scalar(select(PartnerOrg).where(PartnerOrg.name == DEMO_PARTNER))
    if existing is not None:
        return SeedResult(existing.id, False)
    partner = await directory.create_partner(db, DEMO_PARTNER, tier=PartnerTier.TIER1, certified=True)
    for email, role in DEMO_USERS:
        await directory.create_user(db, email, [role], partner_id=partner.id, password=DEMO_PASSWORD,
                                    name=email.split("@")[0].replace(".", " ").title())
    await directory.create_user(db, TRIALS_TEAM_USER, [Role.TRIALS_TEAM], partner_id=None, password=DEMO_PASSWORD,
                                name="Trials Team")
    await directory.create_customer(db, "Fjord Shipping ASA", "NO", "it.admin@fjordshipping.example",
                                    vertical="Transportation", purchased=[ServiceType.MESSAGING], managed_by=partner.id,
                                    extra_admins=["ops.admin@fjordshipping.example"], locale="nb")
    await directory.create_customer(db, "Maple Dental Group", "CA", "admin@mapledental.example",
                                    vertical="Healthcare", purchased=[ServiceType.MEETINGS, ServiceType.MESSAGING],
                                    managed_by=partner.id)
    await directory.create_customer(db, "Harbour Bank Ltd", "GB", "sysadmin@harbourbank.example",
                                    vertical="Financial Services", full_admin=True)
    await directory.create_customer(db, "Lofoten Seafood AS", "NO", "it@lofotenseafood.example",
                                    vertical="Manufacturing", purchased=[ServiceType.CALLING], managed_by=partner.id,
                                    locale="nb")
    await directory.create_customer(db, "Bergen Arkitekter AS", "NO", "admin@bergenarkitekter.example",
                                    vertical="Other", purchased=[ServiceType.CALLING], managed_by=partner.id,
                                    locale="nb")
    await seed_trials(db, partner.id)
    return SeedResult(partner.id, True)


async def seed_trials(db: AsyncSession, partner_id: int) -> None:
    """Trials in different states for the demo partner, made through the domain like the API does."""
    from datetime import timedelta

    from server import clock
    from server.db.models import CustomerOrg, User
    from server.domain.consent import requests as consent
    from server.domain.timeline import deadlines as timeline
    from server.domain.trials import start
    from server.domain.core.actor import Actor, ActorKind
    from server.domain.trials.options import MeetingsOptions, TrialRequest
    from server.enums import MeetingsEdition
    from server.settings import get_settings

    settings = get_settings()
    user = await db.scalar(select(User).where(User.email == "sales.full@nordlys.example"))
    actor = Actor(kind=ActorKind.PARTNER_USER, user_id=user.id, partner_id=partner_id, roles=frozenset({Role.SALES_FULL_ADMIN}),
                  email=user.email)
    seller = await db.scalar(select(User).where(User.email == "sales.admin@nordlys.example"))
    sales_admin = Actor(kind=ActorKind.PARTNER_USER, user_id=seller.id, partner_id=partner_id,
                        roles=frozenset({Role.SALES_ADMIN}), email=seller.email)  # sees only "own customers"
    cap = settings.max_license_count
    await start.start_trial(db, sales_admin, start.CustomerForm("Aurora Retail AS", "it@aurora-retail.example", "Retail",
                                                            "NO", True),
                             TrialRequest([ServiceType.MESSAGING, ServiceType.MEETINGS], 50, 90,
                                          meetings=MeetingsOptions(MeetingsEdition.ENTERPRISE, "aurora-retail",
                                                                   "Europe/Oslo")),
                             setup_now=False, max_licenses=cap)
    fjord = await db.scalar(select(CustomerOrg).where(CustomerOrg.name == "Fjord Shipping ASA"))
    await start.add_trial_to_paid_customer(db, actor, fjord.id, TrialRequest([ServiceType.CALLING], 120, 60),
                                            max_licenses=cap)
    await consent.request_trial(db, actor, start.CustomerForm("Harbour Bank Ltd", "sysadmin@harbourbank.example",
                                                               "Financial Services", "GB", True),
                                TrialRequest([ServiceType.CALLING, ServiceType.MEETINGS], 300, 30), settings=settings)
    maple = await db.scalar(select(CustomerOrg).where(CustomerOrg.name == "Maple Dental Group"))
    expired = await start.add_trial_to_paid_customer(db, actor, maple.id, TrialRequest([ServiceType.CALLING], 25, 30),
                                                      max_licenses=cap)
    expired.starts_at = clock.now() - timedelta(days=40)
    expired.ends_at = clock.now() - timedelta(days=10)
    expired.grace_ends_at = expired.ends_at + timeline.GRACE
    expired.state = "EXPIRED"
    await db.flush()
    await timeline.plan_trial(db, expired)
    fjord_trial = await db.scalar(select(Trial).where(Trial.customer_id == fjord.id))
    fjord_trial.starts_at = clock.now() - timedelta(days=30)
    lofoten = await db.scalar(select(CustomerOrg).where(CustomerOrg.name == "Lofoten Seafood AS"))
    low = await start.add_trial_to_paid_customer(db, actor, lofoten.id, TrialRequest([ServiceType.MEETINGS], 50, 60),
                                                  max_licenses=cap)
    low.starts_at = clock.now() - timedelta(days=20)
    bergen = await db.scalar(select(CustomerOrg).where(CustomerOrg.name == "Bergen Arkitekter AS"))
    not_started = await start.add_trial_to_paid_customer(db, actor, bergen.id,
                                                          TrialRequest([ServiceType.MESSAGING], 40, 30), max_licenses=cap)
    not_started.starts_at = clock.now() - timedelta(days=2)
    await db.flush()
    await seed_usage(db, [(fjord, 30, 60, 0.7, None, ServiceType.CALLING),
                          (maple, 40, 8, 0.5, expired.ends_at.date(), ServiceType.CALLING),
                          (lofoten, 20, 6, 0.6, None, ServiceType.MEETINGS)])


async def seed_usage(db: AsyncSession, plans: list) -> None:
    """SPEC §10: believable usage through the platform's ingest (server.domain.usage.simulate): per
    (org, days, users, activity, last day with use, service). Fjord's trial reads HEALTHY (60 of 120
    users), Lofoten's LOW (6 of 50), Maple's INACTIVE (its users stopped with the trial's end),
    Bergen's NOT_STARTED (started two days ago, no use yet); the others have no health yet."""
    from server import clock
    from server.domain.usage import ingest, partitions, simulate
    from server.schema.node import to_global_id

    today = clock.today()
    batch = ingest.Batch(today, lambda global_id: None)
    for org, days, users, activity, last_day, service in plans:
        global_id = to_global_id("Customer", org.id)
        batch.decode_org = lambda value, g=global_id, pk=org.id: pk if value == g else None
        services = [service.value]
        for line in simulate.lines(global_id, org.id, last_day or today, days=days, users=users, services=services,
                                   activity=activity):
            batch.feed(line)
    batch.close()
    await partitions.ensure_partitions(db, batch.months())
    await ingest.store(db, batch)

