"""device catalog rows from server/db/device_catalog.json (data, not code)

Revision ID: 0002
Revises: 0001
"""
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CATALOG = Path(__file__).resolve().parents[2] / "device_catalog.json"

device_models = sa.table(
    "device_models",
    sa.column("model", sa.String), sa.column("type", sa.String),
    sa.column("max_quantity", sa.Integer), sa.column("needs_poe", sa.Boolean),
)


def upgrade() -> None:
    op.bulk_insert(device_models, json.loads(CATALOG.read_text()))


def downgrade() -> None:
    op.execute(device_models.delete())
