"""Each snapshot records the suppression rule that finalised it.

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
    # Every snapshot before this column was finalised by the first edition.
    op.add_column(
        "snapshots",
        sa.Column("suppression_method", sa.String(), nullable=False, server_default="greedy_v1"),
    )


def downgrade() -> None:
    op.drop_column("snapshots", "suppression_method")
