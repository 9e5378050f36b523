"""The partner's own settings and record (SPEC §11): partner_settings, partner_email_texts, the
sign-in's client address on audit events, and two indexes on audit_events: (partner_id, at, id)
for the partner's audit log (keyset pages newest first, constant cost per page) and (at, id) for
the retention job (the oldest first, O(expired)).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

from server.db.base import BigId, Json, UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_settings",
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("reminder_days", Json, nullable=False),
        sa.Column("recipients", Json, nullable=False),
        sa.Column("sender_name", sa.String(length=100), nullable=True),
        sa.Column("reply_to", sa.String(length=320), nullable=True),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=20), nullable=True),
        sa.Column("logo_hash", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partner_orgs.id"], name=op.f("fk_partner_settings_partner_id_partner_orgs")),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_settings")),
    )
    op.create_index("ix_partner_settings_logo_hash", "partner_settings", ["logo_hash"], unique=False)
    op.create_table(
        "partner_email_texts",
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("introduction", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partner_orgs.id"],
                                name=op.f("fk_partner_email_texts_partner_id_partner_orgs")),
        sa.PrimaryKeyConstraint("partner_id", "kind", "locale", name=op.f("pk_partner_email_texts")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_audit_events_partner_at", ["partner_id", "at", "id"], unique=False)
        batch_op.create_index("ix_audit_events_at", ["at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_at")
        batch_op.drop_index("ix_audit_events_partner_at")
        batch_op.drop_column("client_address")
    op.drop_table("partner_email_texts")
    op.drop_index("ix_partner_settings_logo_hash", table_name="partner_settings")
    op.drop_table("partner_settings")
