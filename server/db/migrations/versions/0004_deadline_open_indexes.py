"""deadlines: both indexes cover open rows only, in the order the sweep reads them. The claim reads
ix_deadlines_open_due on (due_at, id), its ORDER BY, so a batch stops after its LIMIT instead of
sorting every row due at the same instant; ix_deadlines_subject becomes (subject_type, subject_id,
due_at) over open rows (every query by subject asks for open rows; the claim's earlier-row probe
reads no heap row when there is none), and marking a row done adds no entry to either index.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = "done_at IS NULL AND cancelled_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_subject")
        batch_op.drop_index("ix_deadlines_open_due", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index("ix_deadlines_open_due", ["due_at", "id"], unique=False,
                              postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index("ix_deadlines_subject", ["subject_type", "subject_id", "due_at"], unique=False,
                              postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_subject", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.drop_index("ix_deadlines_open_due", postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index("ix_deadlines_open_due", ["due_at"], unique=False,
                              postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index("ix_deadlines_subject", ["subject_type", "subject_id", "kind"], unique=False)
