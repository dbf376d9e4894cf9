"""Measures keep the order they were added in; a period knows its organisation (last
year's plans carry over within one trust, never from another's).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "actionplan_measures",
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("actionplan_periods", sa.Column("organisation_id", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("actionplan_periods", "organisation_id")
    op.drop_column("actionplan_measures", "position")
