"""Tenant isolation (R-ORG-02) and R-ROLE-02 reach, as SQL conditions used by every read and write.

Decision: a customer is on partner P's list when P manages it, holds admin access on it
(PartnerAccessGrant), has a trial request pending its consent (R-EX-05), or had a trial of P
released (R-TIME-05: irreversible, not invisible). Declined, timed-out and withdrawn
requests leave no grant, so the customer leaves the list (R-EX-05/06). A released customer is read,
not worked on: every change to it is refused by its trial's state or the missing grant.
A partner sees only its own trials of a customer; a customer admin sees every trial of its org.
"Own customers" (scope "own") are the visible customers with a trial this user started.
Anything outside the reach answers exactly like a missing object (`errors.not_found`).

R-EX-01 / R-EX-04: a customer on P's list only through P's pending consent request is
listed with its name and country (and region, derived from it), the request's own trial and its
state, and nothing more until an admin accepts: its admin email reads as the address P's request
was sent to, and its purchased services, managing partner, locations (street addresses, numbers),
provisioning error and the platform's audit events read as empty. Nothing can be changed on it
either (`get_customer` with any action but VIEW, `get_location`). `details_condition` says which
customers a viewer reads in full; `customer_columns` is the row every customer read selects.
"""
from __future__ import annotations

from sqlalchemy import and_, case, exists, false, func, literal, null, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ConsentRequest, CustomerOrg, PartnerAccessGrant, PartnerOrg, Trial
from server.domain.core import permissions
from server.domain.core.actor import Actor, ActorKind
from server.domain.core.errors import DomainError, not_found
from server.domain.core.permissions import Action
from server.enums import TrialState


def own_customer(actor: Actor, customer_id=CustomerOrg.id):
    """SQL: the customer `customer_id` (a column or a value) is one of the partner user's own customers
    (R-ROLE-02's "own" scope): this user started a trial of it for their partner."""
    started = Trial.__table__.alias()
    return exists(select(started.c.id).where(started.c.customer_id == customer_id,
                                             started.c.partner_id == actor.partner_id,
                                             started.c.started_by_user_id == actor.user_id))


def _started_by(actor: Actor):
    return own_customer(actor, CustomerOrg.id)


def customer_condition(actor: Actor, action: Action = Action.VIEW):
    """SQL condition on CustomerOrg: the customers `actor` may reach for `action` (false() if none)."""
    reach = permissions.scope(actor, action)
    if reach is None:
        return false()
    if actor.kind is ActorKind.CUSTOMER_ADMIN:
        return CustomerOrg.id == actor.customer_id
    if not actor.is_partner:
        return true() if reach == "all" else false()
    partner = actor.partner_id
    listed = or_(
        CustomerOrg.managing_partner_id == partner,
        exists(select(PartnerAccessGrant.customer_id).where(PartnerAccessGrant.customer_id == CustomerOrg.id,
                                                            PartnerAccessGrant.partner_id == partner)),
        exists(select(Trial.id).where(Trial.customer_id == CustomerOrg.id, Trial.partner_id == partner,
                                      Trial.state.in_([TrialState.PENDING_CONSENT.value, TrialState.RELEASED.value]))),
    )
    return listed if reach == "all" else and_(listed, _started_by(actor))


def details_condition(actor: Actor, customer=CustomerOrg.__table__):
    """SQL condition on a customer (`customer`: customer_orgs or an alias, CTE or subquery with its
    `id` and `managing_partner_id`): the actor reads it beyond name and country (R-EX-01). A partner
    does when it manages the org, holds access on it or had a trial of it released; a customer admin
    reads its own org, the trials team everything it reaches."""
    if not actor.is_partner:
        return true()
    partner = actor.partner_id
    # Correlated explicitly: the planner nests this two levels below the customer's row (a relation's
    # subquery), where auto-correlation would not reach and the EXISTS would read every customer.
    return or_(
        customer.c.managing_partner_id == partner,
        exists(select(PartnerAccessGrant.customer_id).where(PartnerAccessGrant.customer_id == customer.c.id,
                                                            PartnerAccessGrant.partner_id == partner)
               .correlate(customer)),
        exists(select(Trial.id).where(Trial.customer_id == customer.c.id, Trial.partner_id == partner,
                                      Trial.state == TrialState.RELEASED.value).correlate(customer)),
    )


def requested_email(actor: Actor, customer=CustomerOrg.__table__):
    """The address the actor's partner sent its latest consent request to (what it typed itself; a
    withdrawn request's answer still names it), '' if none."""
    return func.coalesce(select(ConsentRequest.admin_email)
                         .where(ConsentRequest.customer_id == customer.c.id,
                                ConsentRequest.partner_id == actor.partner_id)
                         .order_by(ConsentRequest.id.desc()).limit(1).correlate(customer).scalar_subquery(), "")


#: The columns a customer's row masks for a viewer who may not read its details, and with what.
MASKED = {
    "admin_email": requested_email,
    "managing_partner_id": lambda actor, customer: null(),
    "provisioning_error": lambda actor, customer: null(),
}


async def reads_details(db: AsyncSession, actor: Actor, customer_id: int) -> bool:
    """`details_condition` for one customer."""
    customer = CustomerOrg.__table__
    return bool(await db.scalar(select(exists(select(customer.c.id).where(
        customer.c.id == customer_id, details_condition(actor, customer))))))


def customer_view(actor: Actor, customer=CustomerOrg.__table__) -> dict:
    """The customer's columns as the actor reads them, by name, plus `details` (a boolean). A source
    that already carries `details` (a row of `customer_columns`) is read as it is."""
    if "details" in customer.c:
        return {column.name: column for column in customer.c}
    columns = {column.name: column for column in customer.c}
    if not actor.is_partner:
        return {**columns, "details": literal(True)}
    details = details_condition(actor, customer)
    for name, masked in MASKED.items():
        columns[name] = case((details, customer.c[name]), else_=masked(actor, customer))
    return {**columns, "details": details}


def customer_columns(actor: Actor, customer=CustomerOrg.__table__) -> list:
    """`customer_view` as the labelled columns of a SELECT (the loaders, the list page)."""
    return [expr.label(name) for name, expr in customer_view(actor, customer).items()]


def access_condition(actor: Actor):
    """R-ROLE-03 / R-EX-04: whose access grant on a customer the actor reads as `partnerAccess`, as a
    condition on PartnerAccessGrant (None: nobody's). A partner reads its own; a customer admin, who
    grants it by accepting a consent request, reads that of the partner managing their org, so the
    acceptance's own answer shows what was just granted."""
    if actor.is_partner:
        return PartnerAccessGrant.partner_id == actor.partner_id
    if actor.kind is ActorKind.CUSTOMER_ADMIN:
        return PartnerAccessGrant.partner_id == (select(CustomerOrg.managing_partner_id)
                                                 .where(CustomerOrg.id == PartnerAccessGrant.customer_id)
                                                 .scalar_subquery())
    return None


def trial_condition(actor: Actor, trial=Trial):
    """SQL condition on Trial (or an alias of it, `trial`): whose trials of a (visible) customer the actor sees."""
    if actor.kind is ActorKind.CUSTOMER_ADMIN:
        return trial.customer_id == actor.customer_id
    if actor.is_partner:
        return trial.partner_id == actor.partner_id
    return true()


async def get_customer(db: AsyncSession, actor: Actor, customer_id: int | None, action: Action = Action.VIEW,
                       field: str | None = "customerId") -> CustomerOrg:
    """The customer, or NOT_FOUND when missing or out of reach (R-ORG-02); for anything but viewing it,
    also when the actor may not read its details (a pending consent request's customer, R-EX-01)."""
    if customer_id is None:
        raise missing_customer(field)
    stmt = select(CustomerOrg).where(CustomerOrg.id == customer_id, customer_condition(actor, action))
    if action is not Action.VIEW:
        stmt = stmt.where(details_condition(actor))
    row = await db.scalar(stmt)
    if row is None:
        raise missing_customer(field)
    return row


def missing_customer(field: str | None = "customerId") -> DomainError:
    """`get_customer`'s answer for a customer missing or out of reach (also the read planner's)."""
    return not_found("customer", field)


def trial_reach(actor: Actor, trial=Trial):
    """SQL condition on Trial (or an alias of it, `trial`): a trial the actor sees, of a customer the
    actor sees (`find_trial`)."""
    customer_visible = exists(select(CustomerOrg.id).where(CustomerOrg.id == trial.customer_id,
                                                           customer_condition(actor, Action.VIEW)))
    return and_(trial_condition(actor, trial), customer_visible)


async def find_trial(db: AsyncSession, actor: Actor, trial_id: int | None) -> Trial | None:
    if trial_id is None:
        return None
    return await db.scalar(select(Trial).where(Trial.id == trial_id, trial_reach(actor)))


async def get_trial(db: AsyncSession, actor: Actor, trial_id: int | None, action: Action = Action.VIEW,
                    *, for_update: bool = True) -> Trial:
    """A trial the actor may act on with `action`: NOT_FOUND when out of sight, FORBIDDEN when seen but
    not allowed (R-ROLE-02). Locks the row for writes."""
    trial = await find_trial(db, actor, trial_id)
    if trial is None:
        raise not_found("trial", "trialId")
    if action is not Action.VIEW:
        reach = permissions.scope(actor, action)
        own = None
        if reach == "own" and actor.is_partner:
            own = bool(await db.scalar(select(own_customer(actor, trial.customer_id))))
        elif reach == "own" and actor.is_customer_admin:
            own = trial.customer_id == actor.customer_id
        permissions.require(actor, action, own_customer=own)
    if for_update and db.bind.dialect.name == "postgresql":
        await db.execute(select(Trial.id).where(Trial.id == trial.id).with_for_update())
        await db.refresh(trial)
    return trial


async def partner_of(db: AsyncSession, actor: Actor) -> PartnerOrg:
    partner = await db.get(PartnerOrg, actor.partner_id) if actor.partner_id is not None else None
    if partner is None:
        raise permissions.forbidden("Only partner users may do this.")
    return partner
