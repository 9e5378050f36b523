"""The last-active rollup per org and service: `usage_last_active` (org_id, service, days), `days` a
JSON object {user key: the user's last active day as days after 2000-01-01}, replaces
`usage_user_last_active` (one row per org, service and user).

Every day's report moves each active user's last active day forward, so the per-user table took one
row update per active user (8,000 per 10,000-line batch of bench/usage.py, 184 ms of a 300 ms
statement) and a list of 50 trials read each trial's 50 users' rows from about 12 pages. Now an
ingest rewrites one row per (org, service) of its batch (about 400 a batch) and a trial's adoption
reads one row per service (server/domain/usage/storage.py, sql.py). PostgreSQL keeps half of each
page free (fillfactor 50, as 0017 did for the old table): the rewritten row fits on its page.

The rows are carried over both ways (jsonb on PostgreSQL, JSON text on SQLite).

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

from server.db.base import BigId, Json

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "usage_last_active",
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("days", Json, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "service", name=op.f("pk_usage_last_active")),
    )
    if postgres:
        op.execute("ALTER TABLE usage_last_active SET (fillfactor = 50)")
        op.execute("INSERT INTO usage_last_active (org_id, service, days) SELECT org_id, service, "
                   "jsonb_object_agg(user_key, last_active_on - DATE '2000-01-01') FROM usage_user_last_active "
                   "GROUP BY org_id, service ORDER BY org_id, service")
    else:
        op.execute("INSERT INTO usage_last_active (org_id, service, days) SELECT org_id, service, "
                   "json_group_object(user_key, CAST(julianday(last_active_on) - julianday('2000-01-01') AS INTEGER)) "
                   "FROM usage_user_last_active GROUP BY org_id, service ORDER BY org_id, service")
    op.drop_table("usage_user_last_active")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "usage_user_last_active",
        sa.Column("org_id", BigId, nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("last_active_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "service", "user_key", name=op.f("pk_usage_user_last_active")),
    )
    if postgres:
        op.execute("ALTER TABLE usage_user_last_active SET (fillfactor = 50)")
        op.execute("INSERT INTO usage_user_last_active (org_id, service, user_key, last_active_on) "
                   "SELECT l.org_id, l.service, e.key, DATE '2000-01-01' + CAST(e.value AS integer) "
                   "FROM usage_last_active AS l, jsonb_each_text(l.days) AS e ORDER BY 1, 2, 3")
    else:
        op.execute("INSERT INTO usage_user_last_active (org_id, service, user_key, last_active_on) "
                   "SELECT l.org_id, l.service, e.key, date('2000-01-01', '+' || e.value || ' days') "
                   "FROM usage_last_active AS l, json_each(l.days) AS e ORDER BY 1, 2, 3")
    op.drop_table("usage_last_active")
