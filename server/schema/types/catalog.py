"""Catalog types: Country, ExistingOrganization, ServiceAvailability, AuditEvent."""
from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from server.db.models import AuditEvent as AuditEventRow
from server.planner import declare as plan
from server.schema.enums import DataRegion, ServiceType


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


@strawberry.type(description="SPEC §9: who did what, when, with the state before and after.")
class AuditEvent:
    at: datetime
    actor: str
    action: str
    subject_type: str
    before: JSON | None
    after: JSON | None


# What the planner reads for these fields (server.planner.declare): the plain column fields, derived
# from the attributes (server.schema.columns).
plan.declare(AuditEvent, AuditEventRow)
