"""`trialdesk demo seed`: a demo partner with one user of each role and a few customers.

Idempotent: seeding twice changes nothing. Later issues add trials in different states here.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import PartnerOrg
from server.domain import directory
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


@dataclass
class SeedResult:
    partner_id: int
    created: bool
    credentials: list[tuple[str, str, str]]


async def seed(db: AsyncSession) -> SeedResult:
    credentials = [(email, role.value, DEMO_PASSWORD) for email, role in DEMO_USERS]
    credentials.append((TRIALS_TEAM_USER, Role.TRIALS_TEAM.value, DEMO_PASSWORD))
    existing = await db.scalar(select(PartnerOrg).where(PartnerOrg.name == DEMO_PARTNER))
    if existing is not None:
        return SeedResult(existing.id, False, credentials)
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
    return SeedResult(partner.id, True, credentials)
