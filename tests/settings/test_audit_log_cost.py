"""R-AUDIT-01's cost: a page of the audit log costs the same at 1M events as at ten, whatever it
reads of each event. These tests hold the plans that make it so on both backends (the timings are
bench/audit_log.py's): each event's person (actorName, actorRole: server/schema/types/catalog.py
and server.domain.core.audit_actors, found by the lower-cased email of the event's actor label) is
one index probe, never a scan of every user or customer user."""
from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from server import clock
from server.db.models import CustomerUser, RoleGrant, User


async def _plan(sessionmaker, statement) -> str:
    async with sessionmaker() as db:
        postgres = db.bind.dialect.name == "postgresql"
        dialect = postgresql.dialect() if postgres else sqlite.dialect()
        sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if postgres:
            await db.execute(text("SET LOCAL enable_seqscan = off"))  # the plan a large table gets
        rows = await db.execute(text(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql))
        return "\n".join(str(row[-1]) for row in rows)


async def test_r_audit_01_each_events_person_is_found_by_an_index_on_the_lower_cased_email(sessionmaker):
    email = "kari@partner.example"
    staff = select(User.name, RoleGrant.role).outerjoin(RoleGrant, RoleGrant.user_id == User.id).where(
        func.lower(User.email) == email)
    customer = select(CustomerUser.name).where(func.lower(CustomerUser.email) == email)
    assert "ix_users_email_lower" in await _plan(sessionmaker, staff)
    assert "ix_customer_users_email_lower" in await _plan(sessionmaker, customer)


async def test_r_audit_01_a_page_filtered_by_actor_or_action_walks_only_matching_events(sessionmaker):
    """An actor's page walks (partner_id, actor, at, id) once per name it may have (an email: four);
    an action's (PostgreSQL) (partner_id, action, at, id) once per action of its family: a rare
    actor or action costs its page, not a read of every event of the partner."""
    from server.domain.core import audit_log as log
    from server.domain.core.actor import Actor, ActorKind
    from server.enums import Role

    admin = Actor(kind=ActorKind.PARTNER_USER, user_id=1, partner_id=1, roles=frozenset({Role.PARTNER_FULL_ADMIN}),
                  email="admin@partner.example")
    async with sessionmaker() as db:
        postgres = db.bind.dialect.name == "postgresql"
    for where, index in ((log.Filter(actor="Kari@Partner.example"), "ix_audit_events_partner_actor_at"),
                         (log.Filter(actor="token:7", action="token"), "ix_audit_events_partner_actor_at"),
                         (log.Filter(action="token"), "ix_audit_events_partner_action_at" if postgres
                          else "ix_audit_events_partner_at")):
        statement = log.page_statement(admin, where, after=True, postgres=postgres).params(
            log.parameters(where, first=50, after=log.Position(at=clock.now(), id=9)))
        plan = await _plan(sessionmaker, statement)
        assert index in plan, (where, plan)


async def test_r_audit_01_a_customers_page_asks_once_whether_the_reader_views_the_customer(sessionmaker):
    """A partner's other roles read the events of the customers they view: a customer's page asks
    that of the customer once (PostgreSQL: a one-time filter), never of each of its events (one out
    of reach read every one of its events to answer an empty page)."""
    from server.domain.core import audit_log as log
    from server.domain.core.actor import Actor, ActorKind
    from server.enums import Role

    seller = Actor(kind=ActorKind.PARTNER_USER, user_id=1, partner_id=1, roles=frozenset({Role.SALES_ADMIN}),
                   email="seller@partner.example")
    where = log.Filter(customer_id=7)
    statement = log.page_statement(seller, where).params(log.parameters(where, first=50))
    async with sessionmaker() as db:
        postgres = db.bind.dialect.name == "postgresql"
    sql = str(statement.compile(dialect=postgresql.dialect() if postgres else sqlite.dialect()))
    assert "audit_events.customer_id IN" not in sql, sql
    if postgres:
        assert "One-Time Filter" in await _plan(sessionmaker, statement)
