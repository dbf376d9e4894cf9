"""Initial schema: the chassis tables (outbox, processed events) and the service's own.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from forbedring_chassis.migrations import create_chassis_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_chassis_tables()
    op.create_table(
        "responses",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("period_id", sa.String, nullable=False),
        sa.Column("unit_id", sa.String, nullable=False),
        sa.Column("questionnaire_version", sa.String, nullable=False),
        sa.Column("answers", JSONB, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
