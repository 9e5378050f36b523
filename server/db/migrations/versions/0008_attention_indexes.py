"""Two small partial indexes for the home page's "needs attention" lists
(server/domain/partner_day/attention.py), each holding only the rows a list reads, so the list costs O(its rows),
not a scan of every customer or every audit event:

- customer_orgs whose provisioning failed (UNABLE_TO_PROVISION): rare rows, else a scan of all orgs;
- audit_events of "I'm interested in buying" clicks (R-BUY-01: the click is recorded nowhere
  else), by partner and trial: else a probe of each customer's whole trail per live trial.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FAILED = "provisioning_status = 'UNABLE_TO_PROVISION'"
CLICKS = "action = 'trial.purchase_interest'"


def upgrade() -> None:
    op.create_index("ix_customer_orgs_unable_to_provision", "customer_orgs", ["id"],
                    postgresql_where=sa.text(FAILED), sqlite_where=sa.text(FAILED))
    op.create_index("ix_audit_events_purchase_interest", "audit_events", ["partner_id", "subject_id", "at"],
                    postgresql_where=sa.text(CLICKS), sqlite_where=sa.text(CLICKS))


def downgrade() -> None:
    op.drop_index("ix_audit_events_purchase_interest", table_name="audit_events")
    op.drop_index("ix_customer_orgs_unable_to_provision", table_name="customer_orgs")
