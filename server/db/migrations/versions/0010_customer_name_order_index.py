"""The customers list's order as an index: (lower(name), id).

`ix_customer_orgs_name_lower` was, despite its name, an index on `name`; every customers list,
export and API page orders by `lower(name), id` (server.domain.orgs.customers.page_statement), so
PostgreSQL scanned and sorted every reachable customer to return the first 50 (bench.postgraphile:
10 000 customers, the list's statement 4.2 ms, 1.9 ms of it the scan and 1.3 ms the top-N sort).
On the expression index the page walks the order and stops after `first + 1` rows (1.4 ms).
SQLite takes expression indexes too.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_customer_orgs_name_lower", table_name="customer_orgs")
    op.create_index("ix_customer_orgs_name_lower", "customer_orgs", [sa.text("lower(name)"), "id"])


def downgrade() -> None:
    op.drop_index("ix_customer_orgs_name_lower", table_name="customer_orgs")
    op.create_index("ix_customer_orgs_name_lower", "customer_orgs", ["name"])
