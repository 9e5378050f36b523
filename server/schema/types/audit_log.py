"""The partner's audit log (SPEC §11, R-AUDIT-01) as a connection, newest first."""
from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.types import Info

from server.db.models import AuditEvent as AuditEventRow
from server.db.models import CustomerOrg
from server.domain.core import visibility
from server.planner import declare as plan
from server.schema import columns
from server.domain.core.audit_actors import ActorFacts
from server.schema.types.catalog import ACTOR_PLAN, AuditActor
from server.schema.types.customers import Customer, PageInfo


@strawberry.input(description="R-AUDIT-01: actor (an email, or `token:ID`, `system`), action (`trial.extended` "
                              "or a family: `trial`), customer, time range (since inclusive, until exclusive).")
class AuditLogFilter:
    actor: str | None = None
    action: str | None = None
    customer_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type(description="One audit event: who did what, when, to which customer, before and after.")
class AuditLogEntry(AuditActor):
    at: datetime
    actor: str
    action: str
    subject_type: str
    before: JSON | None
    after: JSON | None
    client_address: str | None = strawberry.field(description="Sign-ins: the client's address.")
    _customer_id: strawberry.Private[int | None]

    @strawberry.field(description="The customer the event is about, if any.")
    async def customer(self, info: Info) -> Customer | None:
        return None if self._customer_id is None else await Customer.load(info, self._customer_id)

    @classmethod
    def from_row(cls, row: AuditEventRow, who: ActorFacts) -> "AuditLogEntry":
        return cls(**columns.values(cls, row, _customer_id=row.customer_id, actor_kind=who.kind, actor_name=who.name,
                                    actor_role=who.role))


@strawberry.type
class AuditLogEdge:
    cursor: str
    node: AuditLogEntry


@strawberry.type
class AuditLogConnection:
    edges: list[AuditLogEdge]
    page_info: PageInfo
    _count: strawberry.Private[object]

    @strawberry.field(description="Every event matching the filter (one COUNT over them, only when asked).")
    async def total_count(self) -> int:
        return await self._count()

# What the planner reads for these fields (server.planner.declare): the page's plain column fields
# (derived from the attributes, server.schema.columns); the customer as the resolver's loader reads it
# (within the viewer's reach, else null).
plan.declare(
    AuditLogEntry, AuditEventRow, **ACTOR_PLAN,
    customer=plan.Relation("Customer", CustomerOrg, join=lambda event, customer: customer.c.id == event.c.customer_id,
                           many=False, scope=lambda actor, customer: customer.c.id.in_(
                               select(CustomerOrg.id).where(visibility.customer_condition(actor)))),
)
