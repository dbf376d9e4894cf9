"""Initial schema: the chassis tables (outbox, processed events) and the service's own.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from forbedring_chassis.migrations import create_chassis_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_chassis_tables()
    op.create_table(
        "unit_counts",
        sa.Column("period_id", sa.String, primary_key=True),
        sa.Column("unit_id", sa.String, primary_key=True),
        sa.Column("respondents", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
