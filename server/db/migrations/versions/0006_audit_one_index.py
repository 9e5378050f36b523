"""audit_events: one index, the way the trail is read. Every read asks for one customer's events,
newest first (server/domain/customers.audit_events and its compiled twin: customer_id = ?, maybe the
partner's own, ORDER BY at DESC, id DESC LIMIT 200): (customer_id, at, id) answers it without a sort.
The indexes on at, customer_id and partner_id alone go: none was read on its own, and each cost
every insert an index entry (the sweep writes an event per transition: bench/sweep.py).

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_at")
        batch_op.drop_index("ix_audit_events_customer_id")
        batch_op.drop_index("ix_audit_events_partner_id")
        batch_op.create_index("ix_audit_events_customer_at", ["customer_id", "at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_customer_at")
        batch_op.create_index("ix_audit_events_partner_id", ["partner_id"], unique=False)
        batch_op.create_index("ix_audit_events_customer_id", ["customer_id"], unique=False)
        batch_op.create_index("ix_audit_events_at", ["at"], unique=False)
