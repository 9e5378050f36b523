"""usage_user_last_active: every day's report moves each active user's last active day forward
(server/domain/usage/storage.py), so each ingest updates one row per active user of the batch. On
PostgreSQL the table keeps half of each page free (fillfactor 50, as trials in 0005), so the new
row version fits on its page: a HOT update, no new entry in the primary key. Without it every day
left one more dead entry per user in the key, and each later upsert walked them (bench/usage.py:
41 buffers per row after 20 batches of 10,000 lines; 17 with it).

Revision ID: 0017
Revises: 0014
"""
from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE usage_user_last_active SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE usage_user_last_active RESET (fillfactor)")
