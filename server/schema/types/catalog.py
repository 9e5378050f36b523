"""Catalog types: Country, ExistingOrganization, ServiceAvailability, AuditEvent."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import strawberry
from strawberry.scalars import JSON

from sqlalchemy import func, select, text

from server.db.models import AuditEvent as AuditEventRow, CustomerUser, RoleGrant, User
from server.domain.core import audit_actors
from server.planner import declare as plan
from server.schema.enums import AuditActorKind, DataRegion, Role, ServiceType


@strawberry.type
class Country:
    code: str
    name: str
    region: DataRegion
    supported: bool


@strawberry.type(description="R-EX-01: what the partner may see of an existing org: name and country only.")
class ExistingOrganization:
    name: str
    country: str


@strawberry.type
class ServiceAvailability:
    type: ServiceType
    available: bool
    reason: str | None


@strawberry.type
class AuditActor:
    """Who acted, in facts a page puts in words (SPEC §9, R-AUDIT-01): the customer's history
    (AuditEvent) and the partner's audit log (AuditLogEntry) both carry them, read the same way."""
    actor_kind: AuditActorKind = strawberry.field(description="SPEC §9: who acted: a partner user, a customer "
                                                  "admin, the trials team, an API token, the system or a signed-out visitor.")
    actor_name: str | None = strawberry.field(description="The person who acted: their name, else their email; "
                                              "null for an API token, the system and a signed-out visitor.")
    actor_role: Role | None = strawberry.field(description="A partner or trials-team user's most senior role (now); "
                                               "null for anyone else.")


@strawberry.type(description="SPEC §9: who did what, when, with the state before and after.")
class AuditEvent(AuditActor):
    at: datetime
    actor: str
    action: str
    subject_type: str
    before: JSON | None
    after: JSON | None


# What the planner reads for these fields (server.planner.declare); the actor's facts as
# server.domain.core.audit_actors decides them, from the same rows read in SQL.
def _label_parts(event):
    return (func.split_part(event.c.actor, ":", 1),
            func.lower(func.substr(event.c.actor, func.strpos(event.c.actor, ":") + 1)))


def _actor_name(event, parent, actor):
    kind, email = _label_parts(event)
    staff = select(func.nullif(User.name, "")).where(func.lower(User.email) == email,
                                                     kind.in_(audit_actors.STAFF)).scalar_subquery()
    customer = select(func.nullif(CustomerUser.name, "")).where(func.lower(CustomerUser.email) == email,
                                                                kind.in_(audit_actors.CUSTOMER)).scalar_subquery()
    return func.coalesce(staff, customer)


def _actor_roles(event, parent, actor):
    kind, email = _label_parts(event)
    return (select(func.coalesce(func.json_agg(RoleGrant.role), text("'[]'::json")))
            .join(User, User.id == RoleGrant.user_id)
            .where(func.lower(User.email) == email, kind.in_(audit_actors.STAFF)).scalar_subquery())


# Memoized: a page's 50 events come from a handful of people (the facts were most of the planned
# page's own CPU: bench.audit_log's profile). Keyed by everything the answer depends on.
@lru_cache(maxsize=4096)
def _kind_value(label):
    return audit_actors.kind_of(label).value


@lru_cache(maxsize=4096)
def _name_value(label, name):
    return audit_actors.facts(label, name, ()).name


@lru_cache(maxsize=4096)
def _role_of(label, roles):
    role = audit_actors.facts(label, None, roles).role
    return role.value if role else None


def _role_value(label, roles):
    return _role_of(label, tuple(roles) if roles else ())


# What the planner reads for these fields (server.planner.declare): the plain column fields, derived
# from the attributes (server.schema.columns), and the actor's facts from the same rows in SQL.
#: The planner's reading of AuditActor's fields, for every type that carries them.
ACTOR_PLAN = dict(
    actorKind=plan.Derived(lambda env, label: _kind_value(label), "actor"),
    actorName=plan.Derived(lambda env, label, name: _name_value(label, name), "actor", plan.Input(_actor_name)),
    actorRole=plan.Derived(lambda env, label, roles: _role_value(label, roles), "actor", plan.Input(_actor_roles)))
plan.declare(AuditEvent, AuditEventRow, **ACTOR_PLAN)
