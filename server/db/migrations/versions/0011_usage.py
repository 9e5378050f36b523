"""Usage and adoption (SPEC §10): per-user days, their rollups, assigned licenses, recorded health.

On PostgreSQL `usage_user_days` is partitioned by month (RANGE on `day`); no partition is made
here: the worker creates the months a day needs ahead of time and drops whole months past the 400
days of R-USE-08 (server.domain.usage.storage), and an ingest makes a missing month itself first.
SQLite keeps a plain table.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from server.db.base import BigId

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Count = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "usage_user_days",
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("events", Count, nullable=False),
        sa.Column("minutes", Count, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "day", "service", "user_key", name=op.f("pk_usage_user_days")),
        postgresql_partition_by="RANGE (day)",
    )
    op.create_table(
        "usage_daily_totals",
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("active_users", sa.Integer(), nullable=False),
        sa.Column("events", Count, nullable=False),
        sa.Column("minutes", Count, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "service", "day", name=op.f("pk_usage_daily_totals")),
    )
    op.create_table(
        "usage_user_last_active",
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("last_active_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "service", "user_key", name=op.f("pk_usage_user_last_active")),
    )
    op.create_table(
        "usage_assigned_licenses",
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "service", "day", name=op.f("pk_usage_assigned_licenses")),
    )
    op.create_table(
        "trial_adoption_health",
        sa.Column("trial_id", BigId, nullable=False),
        sa.Column("health", sa.String(length=16), nullable=True),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"], ondelete="CASCADE",
                                name=op.f("fk_trial_adoption_health_trial_id_trials")),
        sa.PrimaryKeyConstraint("trial_id", name=op.f("pk_trial_adoption_health")),
    )
    op.create_table(
        "usage_runs",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_usage_runs")),
    )


def downgrade() -> None:
    for table in ("usage_runs", "trial_adoption_health", "usage_assigned_licenses", "usage_user_last_active",
                  "usage_daily_totals", "usage_user_days"):
        op.drop_table(table)
