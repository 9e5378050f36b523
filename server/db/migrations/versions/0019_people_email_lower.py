"""People by their lower-cased email: users and customer_users get an index on lower(email).

Every read that finds a person by the email in an audit event's actor label or a sign-in form
compares `lower(email)` (server/schema/types/catalog.py's actorName/actorRole, read per row of an
audit log page; server.domain.core.audit_actors; server.auth.signin), which the unique index on
`email` cannot answer: PostgreSQL scanned every user for each of a page's 50 events, three times
(bench.audit_log with 5 040 users and 20 000 customer users: the page's one statement took 400 ms,
the scans of users and customer_users 397 ms of it). On these indexes each look-up is one probe.
SQLite takes expression indexes too.

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


def downgrade() -> None:
    op.drop_index("ix_customer_users_email_lower", table_name="customer_users")
    op.drop_index("ix_users_email_lower", table_name="users")
