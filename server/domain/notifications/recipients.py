"""Who receives which email (SPEC §5, §8): one function per audience, so each rule lives once.

A recipient is (email, locale); locale is the person's own `locale` column (en or nb).

- Customer admins (R-TIME-01/02, R-PAID-01): FULL_ADMIN and ADMIN users still in the org.
- Customer users (R-TIME-04): every user of the org (USER too) still in the org.
- Partner admins (R-TIME-01/02): users of the *managing* partner of the trial with
  PARTNER_FULL_ADMIN, PARTNER_ADMIN or SALES_FULL_ADMIN, plus the user who started the trial;
  never read-only users (unless one of those roles), never another partner's users.
- R-SET-01: a partner chooses, per email kind with a partner copy (`PARTNER_COPY_KINDS`), which of
  its roles get it (`partner_settings.recipients`; a kind it never chose has the roles above). The
  user who started the trial always gets it; READ_ONLY is never a choice.
- Welcome (R-NEW-04): the customer's full admins (for a new customer: the admin email given).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerUser, PartnerSettings, RoleGrant, Trial, User
from server.domain.timeline import set_based
from server.enums import CustomerRole, Role

Recipient = tuple[str, str]

CUSTOMER_ADMIN_ROLES = (CustomerRole.FULL_ADMIN.value, CustomerRole.ADMIN.value)
PARTNER_ADMIN_ROLES = (Role.PARTNER_FULL_ADMIN.value, Role.PARTNER_ADMIN.value, Role.SALES_FULL_ADMIN.value)
#: R-SET-01: the roles a partner may choose for its copy of an email (never READ_ONLY).
PARTNER_COPY_ROLES = (*PARTNER_ADMIN_ROLES, Role.SALES_ADMIN.value)
#: The email kinds (outbox.EmailKind values) the partner's people get a copy of, about a trial.
PARTNER_COPY_KINDS = ("warning_partner", "expired_partner", "purchase_interest", "trial_cancelled", "converted",
                      "device_extension_decided", "return_overdue")


def _unique(rows) -> list[Recipient]:
    return list(dict.fromkeys((email.lower(), locale or "en") for email, locale in rows))


def _by_customer(rows) -> dict[int, list[Recipient]]:
    grouped: dict[int, list[tuple[str, str]]] = {}
    for customer_id, email, locale in rows:
        grouped.setdefault(customer_id, []).append((email, locale))
    return {customer_id: _unique(people) for customer_id, people in grouped.items()}


async def customer_admins_of(db: AsyncSession, customer_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """R-TIME-01/02: every customer admin (FULL_ADMIN, ADMIN) of each org, in one query."""
    rows = await db.execute(select(CustomerUser.customer_id, CustomerUser.email, CustomerUser.locale).where(
        set_based.among(db, CustomerUser.customer_id, set(customer_ids)), CustomerUser.moved_to_consumer_at.is_(None),
        CustomerUser.role.in_(CUSTOMER_ADMIN_ROLES)).order_by(CustomerUser.customer_id, CustomerUser.id))
    return _by_customer(rows)


async def customer_admins(db: AsyncSession, customer_id: int) -> list[Recipient]:
    return (await customer_admins_of(db, [customer_id])).get(customer_id, [])


async def customer_full_admins(db: AsyncSession, customer_id: int) -> list[Recipient]:
    """R-NEW-04: who gets the welcome email (falls back to every admin if no full admin exists)."""
    rows = list(await db.execute(select(CustomerUser.email, CustomerUser.locale).where(
        CustomerUser.customer_id == customer_id, CustomerUser.moved_to_consumer_at.is_(None),
        CustomerUser.role == CustomerRole.FULL_ADMIN.value).order_by(CustomerUser.id)))
    return _unique(rows) if rows else await customer_admins(db, customer_id)


async def customer_users_of(db: AsyncSession, customer_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """R-TIME-04: every user of each org, admins and plain users alike, in one query."""
    rows = await db.execute(select(CustomerUser.customer_id, CustomerUser.email, CustomerUser.locale).where(
        set_based.among(db, CustomerUser.customer_id, set(customer_ids)), CustomerUser.moved_to_consumer_at.is_(None))
        .order_by(CustomerUser.customer_id, CustomerUser.id))
    return _by_customer(rows)


async def customer_users(db: AsyncSession, customer_id: int) -> list[Recipient]:
    return (await customer_users_of(db, [customer_id])).get(customer_id, [])


async def copy_roles_of(db: AsyncSession, partner_ids: Iterable[int], kind: str | None) -> dict[int, tuple[str, ...]]:
    """R-SET-01: per partner, the roles that get its copy of `kind` (the default when it never chose)."""
    partner_ids = set(partner_ids)
    chosen = {} if kind is None or not partner_ids else dict((await db.execute(
        select(PartnerSettings.partner_id, PartnerSettings.recipients).where(
            PartnerSettings.partner_id.in_(partner_ids)))).all())
    return {partner_id: tuple((chosen.get(partner_id) or {}).get(kind, PARTNER_ADMIN_ROLES))
            for partner_id in partner_ids}


async def partner_admins_of(db: AsyncSession, trials: Iterable, kind: str | None = None) -> dict[int, list[Recipient]]:
    """R-TIME-01: per trial (anything with id, partner_id, started_by_user_id), the managing
    partner's admins (the roles it chose for `kind`, R-SET-01) and the user who started it; three
    queries for any number of trials."""
    trials = list(trials)
    roles_of = await copy_roles_of(db, {t.partner_id for t in trials}, getattr(kind, "value", kind))
    admins: dict[int, list[tuple[int, str, str]]] = {}
    for partner_id, user_id, email, locale, role in await db.execute(
            select(User.partner_id, User.id, User.email, User.locale, RoleGrant.role)
            .join(RoleGrant, RoleGrant.user_id == User.id).where(
                User.partner_id.in_(roles_of), User.active.is_(True), RoleGrant.role.in_(PARTNER_COPY_ROLES))):
        people = admins.setdefault(partner_id, [])
        if role in roles_of[partner_id] and all(user_id != known for known, _, _ in people):
            people.append((user_id, email, locale))
    starter_ids = {t.started_by_user_id for t in trials if t.started_by_user_id is not None}
    starters = {user_id: (partner_id, (user_id, email, locale)) for user_id, partner_id, email, locale in (
        await db.execute(select(User.id, User.partner_id, User.email, User.locale).where(
            User.id.in_(starter_ids), User.active.is_(True))) if starter_ids else [])}
    result: dict[int, list[Recipient]] = {}
    same: dict[tuple[int, int | None], list[Recipient]] = {}     # trials of one partner and starter share a list
    for trial in trials:
        key = (trial.partner_id, trial.started_by_user_id)
        people = same.get(key)
        if people is None:
            found = list(admins.get(trial.partner_id, []))
            starter = starters.get(trial.started_by_user_id)
            if starter is not None and starter[0] == trial.partner_id:
                found.append(starter[1])
            people = same[key] = _unique((email, locale) for _, email, locale in sorted(found, key=lambda p: p[0]))
        result[trial.id] = people
    return result


async def partner_admins(db: AsyncSession, trial: Trial, kind: str | None = None) -> list[Recipient]:
    return (await partner_admins_of(db, [trial], kind))[trial.id]
