"""Indicator targets set by HR per period (the settings' targets are the default), and
the audit log of administrative actions (the chassis's shape).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from forbedring_chassis.audit import create_audit_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actionplan_indicator_targets",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("indicator", sa.String(64), primary_key=True),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.CheckConstraint("percent >= 0 AND percent <= 100", name="target_is_a_share"),
    )
    create_audit_table()


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
