"""Webhooks: endpoints, deliveries, and the fan-out's mark on audit events.

An audit event is the webhook event (server/domain/webhooks/events.py): `webhooks_dispatched_at`
stays NULL until the fan-out has made its deliveries, and a partial index holds only those rows,
so the fan-out's claim reads O(undispatched), and a dispatched event leaves the index. Events
written before this migration are marked dispatched: no endpoint existed to hear them.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from server.db.base import BigId, Json, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhooks_dispatched_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE audit_events SET webhooks_dispatched_at = at")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_undispatched", ["id"], unique=False,
                              postgresql_where=sa.text("webhooks_dispatched_at IS NULL"),
                              sqlite_where=sa.text("webhooks_dispatched_at IS NULL"))
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", BigId, nullable=False),
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("event_types", Json, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("failed_in_row", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partner_orgs.id"], name=op.f("fk_webhook_endpoints_partner_id_partner_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index("ix_webhook_endpoints_partner_id", "webhook_endpoints", ["partner_id"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("endpoint_id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("webhook_id", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("leased_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("request_timestamp", BigId, nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("failed_at", UTCDateTime(), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoints.id"], ondelete="CASCADE",
                                name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index("ix_webhook_deliveries_pending", "webhook_deliveries", ["id"], unique=False,
                    postgresql_where=sa.text("status = 'PENDING'"), sqlite_where=sa.text("status = 'PENDING'"))
    op.create_index("ix_webhook_deliveries_leased", "webhook_deliveries", ["endpoint_id", "id"], unique=False,
                    postgresql_where=sa.text("leased_until IS NOT NULL"), sqlite_where=sa.text("leased_until IS NOT NULL"))
    op.create_index("ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_undispatched")
        batch_op.drop_column("webhooks_dispatched_at")
