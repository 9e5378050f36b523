"""People by their lower-cased email: users and customer_users get an index on lower(email); the
audit log's filtered pages walk (partner_id, actor, at, id) and (partner_id, action, at, id).

Every read that finds a person by the email in an audit event's actor label or a sign-in form
compares `lower(email)` (server/schema/types/catalog.py's actorName/actorRole, read per row of an
audit log page; server.domain.core.audit_actors; server.auth.signin), which the unique index on
`email` cannot answer: PostgreSQL scanned every user for each of a page's 50 events, three times
(bench.audit_log with 5 040 users and 20 000 customer users: the page's one statement took 400 ms,
the scans of users and customer_users 397 ms of it). On these indexes each look-up is one probe.
SQLite takes expression indexes too.

An audit log page filtered by an actor or an action walked (partner_id, at, id) and dropped every
event that did not match: a rare one (a token's creation, a person who acted twice) read all of
the partner's events (a parallel scan of the table, 100-130 ms at 1M events, growing with the
log). On these two indexes each of the page's walks reads only matching events, in page order
(server.domain.core.audit_log.page_statement).

Revision ID: 0019
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_email_lower", "users", [sa.text("lower(email)")])
    op.create_index("ix_customer_users_email_lower", "customer_users", [sa.text("lower(email)")])
    op.create_index("ix_audit_events_partner_actor_at", "audit_events", ["partner_id", "actor", "at", "id"])
    op.create_index("ix_audit_events_partner_action_at", "audit_events", ["partner_id", "action", "at", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_partner_action_at", table_name="audit_events")
    op.drop_index("ix_audit_events_partner_actor_at", table_name="audit_events")
    op.drop_index("ix_customer_users_email_lower", table_name="customer_users")
    op.drop_index("ix_users_email_lower", table_name="users")
