"""Where a shipment's devices are delivered and who receives them (R-DEV-01, R-DEV-02).

Nullable columns on `shipments`: the postal address (its country is the shipment's `country`) and the
contact's name and E.164 phone. Shipments requested before this have none (the API takes them as
optional for now); the portal asks for both.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = [("address_line1", 100), ("address_line2", 100), ("address_city", 100), ("address_postal_code", 20),
           ("address_region", 10), ("contact_name", 100), ("contact_phone", 20)]


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
