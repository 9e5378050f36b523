"""SPEC §9: who an audit event's actor is, as facts a page puts in words ("Sales admin Kari Nordmann
extended the trial by 30 days"): the kind of actor, the person's name and their most senior role.

An event stores its actor as a label (`Actor.label`: `partner_user:<email>`, `customer_admin:<email>`,
`trials_team:<email>`, `token:<id>`, `system`, `anonymous`). Decisions:
- The name is the person's own (users.name, customer_users.name), else their email; an API token,
  the system (the worker's sweep) and a signed-out visitor have none (pages word them).
- The role is the person's most senior role now (`SENIORITY`), not at the time of the event: roles
  are not kept per event, and the audit log keeps the label for the exact record.
The read planner (server/schema/types/catalog.py) computes the same from the same rows in SQL.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import CustomerUser, RoleGrant, User
from server.enums import AuditActorKind, Role

KINDS = {"partner_user": AuditActorKind.PARTNER_USER, "customer_admin": AuditActorKind.CUSTOMER_ADMIN,
         "trials_team": AuditActorKind.TRIALS_TEAM, "token": AuditActorKind.API_TOKEN,
         "system": AuditActorKind.SYSTEM}
#: Staff labels (users table) and customer labels (customer_users table).
STAFF = ("partner_user", "trials_team")
CUSTOMER = ("customer_admin",)
#: The role a person is named by when they hold several.
SENIORITY = (Role.PARTNER_FULL_ADMIN, Role.SALES_FULL_ADMIN, Role.PARTNER_ADMIN, Role.SALES_ADMIN, Role.READ_ONLY,
             Role.TRIALS_TEAM, Role.PLATFORM)


@dataclass(frozen=True)
class ActorFacts:
    kind: AuditActorKind
    name: str | None = None
    role: Role | None = None


def kind_of(label: str | None) -> AuditActorKind:
    return KINDS.get((label or "").partition(":")[0], AuditActorKind.ANONYMOUS)


def email_of(label: str | None) -> str | None:
    """The person's email in a person's label, else None."""
    kind, _, email = (label or "").partition(":")
    return email if kind in STAFF + CUSTOMER and email else None


def senior_role(roles: Iterable[str] | None) -> Role | None:
    held = set(roles or ())
    return next((role for role in SENIORITY if role.value in held), None)


def facts(label: str | None, name: str | None, roles: Iterable[str] | None) -> ActorFacts:
    """The facts of one label from what was read of its person (`name`: their own or None)."""
    email = email_of(label)
    if email is None:
        return ActorFacts(kind_of(label))
    return ActorFacts(kind_of(label), name or email, senior_role(roles) if kind_of(label) != AuditActorKind.CUSTOMER_ADMIN
                      else None)


async def of_labels(db: AsyncSession, labels: Iterable[str]) -> dict[str, ActorFacts]:
    """ActorFacts by label, reading each person once (two statements for any number of events)."""
    labels = set(labels)
    staff = {email_of(x).lower() for x in labels if email_of(x) and x.partition(":")[0] in STAFF}
    customers = {email_of(x).lower() for x in labels if email_of(x) and x.partition(":")[0] in CUSTOMER}
    people: dict[tuple[str, str], tuple[str | None, list[str]]] = {}
    if staff:
        rows = (await db.execute(select(func.lower(User.email), User.name, RoleGrant.role)
                                 .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
                                 .where(func.lower(User.email).in_(staff)))).all()
        for email, name, role in rows:
            entry = people.setdefault(("staff", email), (name or None, []))
            if role:
                entry[1].append(role)
    if customers:
        rows = (await db.execute(select(func.lower(CustomerUser.email), CustomerUser.name)
                                 .where(func.lower(CustomerUser.email).in_(customers)))).all()
        people.update({("customer", email): (name or None, []) for email, name in rows})
    answer = {}
    for label in labels:
        email = email_of(label)
        side = "customer" if label.partition(":")[0] in CUSTOMER else "staff"
        name, roles = people.get((side, email.lower()), (None, [])) if email else (None, [])
        answer[label] = facts(label, name, roles)
    return answer
