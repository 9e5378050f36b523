"""Partners, partner users and customer orgs created by operators (CLI, seed) rather than by flows."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.auth import passwords
from server.db.models import (
    ApiToken, CustomerOrg, CustomerUser, PartnerAccessGrant, PartnerOrg, PurchasedService, RoleGrant, User,
)
from server.domain.core import audit
from server.domain.orgs import geography
from server.domain.core.actor import SYSTEM, Actor
from server.domain.core.errors import DomainError
from server.enums import CustomerRole, ErrorCode, PartnerAccess, PartnerTier, Role, ServiceType



def normalize_email(email: str, field: str = "email") -> str:
    """Validated and lower-cased (R-NEW-01: a clear INVALID_EMAIL, never a 500)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except (EmailNotValidError, AttributeError):
        raise DomainError(ErrorCode.INVALID_EMAIL, f"'{email}' is not a valid email address.", field)


async def create_partner(db: AsyncSession, name: str, *, tier: PartnerTier = PartnerTier.TIER1, certified: bool = True,
                         distributor_id: int | None = None, actor: Actor = SYSTEM) -> PartnerOrg:
    if not name.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "A partner needs a name.", "name")
    if distributor_id is not None and await db.get(PartnerOrg, distributor_id) is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such distributor.", "distributor")
    partner = PartnerOrg(name=name.strip(), tier=tier.value, certified=certified, distributor_id=distributor_id,
                         created_at=clock.now())
    db.add(partner)
    await db.flush()
    audit.record(db, actor, "partner.created", "Partner", partner.id, partner_id=partner.id,
                 after={"name": partner.name, "tier": partner.tier, "certified": certified})
    return partner


#: Roles of the platform's own principals (no partner): the trials team (R-ROLE-05) and the service
#: reporting usage (SPEC §10).
PLATFORM_ROLES = frozenset({Role.TRIALS_TEAM, Role.PLATFORM})


async def create_user(db: AsyncSession, email: str, roles: list[Role], *, partner_id: int | None,
                      password: str | None = None, name: str = "", locale: str = "en", actor: Actor = SYSTEM) -> User:
    email = normalize_email(email)
    if not roles:
        raise DomainError(ErrorCode.INVALID_INPUT, "Give the user at least one role.", "roles")
    for platform_role in PLATFORM_ROLES & set(roles):
        if partner_id is not None or len(set(roles)) > 1:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{platform_role} is a platform role: no partner, no other role.",
                              "roles")
    if Role.PLATFORM in roles and password:
        raise DomainError(ErrorCode.INVALID_INPUT, "The platform has no portal: it uses API tokens, no password.",
                          "password")
    if not PLATFORM_ROLES & set(roles):
        if partner_id is None or await db.get(PartnerOrg, partner_id) is None:
            raise DomainError(ErrorCode.NOT_FOUND, "No such partner.", "partner")
    if await db.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise DomainError(ErrorCode.INVALID_INPUT, f"A user with email {email} exists already.", "email")
    user = User(email=email, partner_id=partner_id, name=name, locale=locale, created_at=clock.now(),
                password_hash=passwords.hash_password(password) if password else None,
                password_changed_at=clock.now() if password else None)
    db.add(user)
    await db.flush()
    db.add_all([RoleGrant(user_id=user.id, role=r.value) for r in sorted(set(roles))])
    audit.record(db, actor, "user.created", "User", user.id, partner_id=partner_id,
                 after={"email": email, "roles": sorted(r.value for r in set(roles))})
    return user


async def create_api_token(db: AsyncSession, user: User, token_hash: str, roles: list[Role], name: str = "",
                           actor: Actor = SYSTEM) -> ApiToken:
    token = ApiToken(partner_id=user.partner_id, user_id=user.id, name=name, token_hash=token_hash,
                     roles=[r.value for r in roles], created_at=clock.now())
    db.add(token)
    await db.flush()
    audit.record(db, actor, "token.created", "ApiToken", token.id, partner_id=user.partner_id,
                 after={"name": name, "roles": token.roles, "user": user.email})
    return token


async def roles_of(db: AsyncSession, user_id: int) -> list[Role]:
    rows = await db.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user_id))
    return sorted(Role(r) for r in rows)


async def create_customer(db: AsyncSession, name: str, country: str, admin_email: str, *, full_admin: bool = True,
                          extra_admins: list[str] = (), purchased: list[ServiceType] = (),
                          managed_by: int | None = None, vertical: str = "Other", locale: str = "en",
                          actor: Actor = SYSTEM) -> CustomerOrg:
    """An existing organization on the platform (for the existing-customer and paid-customer flows)."""
    country = country.upper()
    if not geography.is_country(country):
        raise DomainError(ErrorCode.INVALID_COUNTRY, f"'{country}' is not an ISO 3166-1 alpha-2 country code.",
                          "country")
    emails = [normalize_email(admin_email, "adminEmail"), *(normalize_email(e, "extraAdmin") for e in extra_admins)]
    taken = await db.scalar(select(CustomerUser.email).where(CustomerUser.email.in_(emails)).limit(1))
    if taken:
        raise DomainError(ErrorCode.ORG_EXISTS, f"{taken} belongs to an existing organization already.", "adminEmail")
    if managed_by is not None and await db.get(PartnerOrg, managed_by) is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such partner.", "managedBy")
    now = clock.now()
    customer = CustomerOrg(name=name, business_vertical=vertical, country=country,
                           region=geography.region_for(country).value, admin_email=emails[0],
                           managing_partner_id=managed_by, provisioning_status="PROVISIONED",
                           subscription_status="ACTIVE", locale=locale, region_locked=True, created_at=now)
    db.add(customer)
    await db.flush()
    for i, email in enumerate(emails):
        role = CustomerRole.FULL_ADMIN if (i == 0 and full_admin) else CustomerRole.ADMIN
        db.add(CustomerUser(customer_id=customer.id, email=email, role=role.value, locale=locale, created_at=now))
    db.add_all([PurchasedService(customer_id=customer.id, service=s.value) for s in set(purchased)])
    if managed_by is not None:
        db.add(PartnerAccessGrant(customer_id=customer.id, partner_id=managed_by, access=PartnerAccess.FULL_ADMIN.value,
                                  granted_at=now))
    await db.flush()
    audit.record(db, actor, "customer.created", "Customer", customer.id, customer_id=customer.id, partner_id=managed_by,
                 after={"name": name, "country": country, "admins": emails, "purchased": sorted(set(purchased))})
    return customer
