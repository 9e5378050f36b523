"""trials: a state change is a HOT update (the sweep's expiry moves a thousand trials per
statement). `ix_trials_state` goes: no query reads trials by state alone (every one also names the
customer, the partner or the end date, which have their own indexes), and an indexed column that
changes makes every update write a new entry into each of the table's six indexes. On PostgreSQL
the table also keeps half of each page free (fillfactor 50), so the new row version fits on its
page: a state or version change then writes no index entry at all (a HOT update). Half, because
trials started the same day share pages and end the same day: the sweep's expiry moves every row
of a page at once, and each needs room for its new version (with 80, a fifth of them were HOT).
Measured (bench/sweep.py, 1000 expiries): the trials update 27 → 8 ms; the table is twice as
large (~40 MB per 100k trials), which no query scans.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trials", schema=None) as batch_op:
        batch_op.drop_index("ix_trials_state")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE trials SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE trials RESET (fillfactor)")
    with op.batch_alter_table("trials", schema=None) as batch_op:
        batch_op.create_index("ix_trials_state", ["state"], unique=False)
