"""customer_orgs.subscription_status: an org released whole (R-TIME-05) reads RELEASED, no longer
TRIAL_EXPIRED (released trials stay readable, and the customers list filters on RELEASED).
Only the grace-end release ever stored TRIAL_EXPIRED (expiry itself stores nothing on the org:
server/domain/trials/end_of_life.py), so every such row is a released org.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE customer_orgs SET subscription_status = 'RELEASED' WHERE subscription_status = 'TRIAL_EXPIRED'")


def downgrade() -> None:
    op.execute("UPDATE customer_orgs SET subscription_status = 'TRIAL_EXPIRED' WHERE subscription_status = 'RELEASED'")
