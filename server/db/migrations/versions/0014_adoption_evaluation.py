"""R-USE-07's daily evaluation, O(trials whose health may have changed): `usage_changed_orgs` marks
the orgs an ingest changed (written in the ingest's transaction, taken by the next evaluation), and
`trial_adoption_health.next_check_on` is the day a trial's health may next change by time alone,
indexed so the evaluation reads only the trials due (server.domain.usage.evaluation).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

from server.db.base import BigId

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_changed_orgs",
        sa.Column("org_id", BigId, nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_usage_changed_orgs")),
    )
    with op.batch_alter_table("trial_adoption_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_check_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_trial_adoption_health_next_check_on", ["next_check_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trial_adoption_health", schema=None) as batch_op:
        batch_op.drop_index("ix_trial_adoption_health_next_check_on")
        batch_op.drop_column("next_check_on")
    op.drop_table("usage_changed_orgs")
