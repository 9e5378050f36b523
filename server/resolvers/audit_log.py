"""The partner's audit log (R-AUDIT-01). Thin: the filter and cursor translated, one domain call."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from server import loaders
from server.domain.core import audit_actors
from server.domain.core import audit_log as log
from server.domain.core.errors import DomainError
from server.planner import declare as plan
from server.planner import roots
from server.resolvers import cursors
from server.resolvers.answer import as_graphql_error
from server.schema.node import decode_id
from server.schema.permissions import IsAuthenticated
from server.schema.types.audit_log import AuditLogConnection, AuditLogEdge, AuditLogEntry, AuditLogFilter
from server.schema.types.customers import PageInfo

AUTH = [IsAuthenticated]


def cursor_of(row) -> str:
    """Opaque keyset cursor: the event's time and id."""
    return cursors.write("audit", row.at.isoformat(), row.id)


def position_of(cursor: str | None) -> log.Position | None:
    if not cursor:
        return None
    found = cursors.read(cursor, "audit")
    try:
        moment = datetime.fromisoformat(found[0]) if found else None
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise cursors.not_ours("log")
    return log.Position(at=moment, id=found[1])


def filter_of(given: AuditLogFilter | None) -> log.Filter:
    if given is None:
        return log.Filter()
    customer_id = None
    if given.customer_id is not None:
        customer_id = decode_id(str(given.customer_id), "Customer")
        customer_id = -1 if customer_id is None else customer_id        # matches nothing, as a missing customer
    for moment in (given.since, given.until):
        if moment is not None and moment.tzinfo is None:
            raise GraphQLError("Give times with their UTC offset.", extensions={"code": "INVALID_INPUT"})
    return log.Filter(actor=given.actor, action=given.action, customer_id=customer_id, since=given.since,
                      until=given.until)


async def _count(info: Info, where: log.Filter) -> int:
    async with loaders.read(info.context) as db:
        return await log.count(db, info.context.actor, where)


@strawberry.type
class AuditLogQuery:
    @strawberry.field(permission_classes=AUTH, description="R-AUDIT-01: your partner's audit log, newest first "
                                                          "(at most 100 a page).")
    async def audit_log(self, info: Info, first: int | None = 50, after: str | None = None,
                        filter: AuditLogFilter | None = None) -> AuditLogConnection:
        """`first` is nullable as in the public contract: null reads as the default page of 50."""
        first = 50 if first is None else first
        where, position = filter_of(filter), position_of(after)
        try:
            async with loaders.read(info.context) as db:
                rows, has_next = await log.page(db, info.context.actor, where, first=first, after=position)
                who = await audit_actors.of_labels(db, [row.actor for row in rows])
        except DomainError as error:
            raise await as_graphql_error(info, error, "auditLog")
        edges = [AuditLogEdge(cursor=cursor_of(row), node=AuditLogEntry.from_row(row, who[row.actor])) for row in rows]
        return AuditLogConnection(edges=edges, page_info=PageInfo(has_next_page=has_next,
                                                                  end_cursor=edges[-1].cursor if edges else None),
                                  _count=lambda: _count(info, where))


# What the planner reads for auditLog (server.planner): the resolver's domain call, as SQL.
def _where(args: dict[str, Any], actor) -> tuple:
    """The resolver's reading of `auditLog(...)`: (filter, first, position); raises what it raises, in
    its order (the page size when the parameters are read, a reader's FORBIDDEN when the statement is built)."""
    given = args.get("filter")
    where = filter_of(None if given is None else AuditLogFilter(
        actor=given.get("actor"), action=given.get("action"), customer_id=given.get("customerId"),
        since=given.get("since"), until=given.get("until")))
    return where, 50 if args.get("first") is None else args["first"], position_of(args.get("after"))


class _Row(NamedTuple):  # what cursor_of reads of a page row
    id: int
    at: datetime


@lru_cache(maxsize=1 << 14)
def _cursor(pk: int, at: datetime) -> str:
    return cursor_of(_Row(pk, at))


plan.plannable("AuditLogConnection", edges=plan.ByRoot(), pageInfo=plan.ByRoot(), totalCount=plan.ByRoot())
plan.plannable("AuditLogEdge", cursor=plan.ByRoot(), node=plan.ByRoot())
plan.root("auditLog", roots.Connection(
    "AuditLogEntry", "AuditLogEdge", "AuditLogConnection",
    where=_where,
    shape=lambda w: log.shape(w[0], w[2]),
    params=lambda w, now, prefix: log.parameters(w[0], first=w[1], after=w[2], prefix=prefix),
    page=lambda actor, w, prefix: log.page_statement(actor, w[0], after=w[2] is not None, prefix=prefix,
                                                     postgres=True),  # the planner runs on PostgreSQL only
    count=lambda actor, w, prefix: log.count_statement(actor, w[0], prefix=prefix),
    order=lambda page, w: log.order(page.c),
    cursor=lambda args, pk, at: _cursor(pk, at),
    first=lambda args: 50 if args.get("first") is None else args["first"],
    timed=lambda args: True,
))
