"""outbox: render at send time (a context JSON column; subject and body filled when sent) and
only the indexes something queries (the dedup key's unique constraint and the unsent partial index)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UNUSED = ("customer_id", "kind", "recipient", "trial_id")


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        for column in UNUSED:
            batch_op.drop_index(batch_op.f(f"ix_outbox_emails_{column}"))
        batch_op.add_column(sa.Column("context", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                      nullable=True))
        batch_op.alter_column("subject", existing_type=sa.String(300), nullable=True)
        batch_op.alter_column("body_text", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Rows still waiting for their rendering cannot go back to NOT NULL columns: the sender of the
    # older version needs them rendered, so render them here (same templates, same context).
    from server.domain.notifications import emails

    bind = op.get_bind()
    outbox = sa.table("outbox_emails", sa.column("id", sa.BigInteger), sa.column("kind", sa.String),
                      sa.column("locale", sa.String),
                      sa.column("context", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
                      sa.column("subject", sa.String), sa.column("body_text", sa.Text),
                      sa.column("body_html", sa.Text))
    for row in bind.execute(sa.select(outbox.c.id, outbox.c.kind, outbox.c.locale, outbox.c.context)
                            .where(outbox.c.subject.is_(None))).all():
        subject, text, html = emails.render(row.kind, row.locale, row.context or {})
        bind.execute(outbox.update().where(outbox.c.id == row.id)
                     .values(subject=subject, body_text=text, body_html=html))
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.String(300), nullable=False)
        batch_op.drop_column("context")
        for column in UNUSED:
            batch_op.create_index(batch_op.f(f"ix_outbox_emails_{column}"), [column], unique=False)
