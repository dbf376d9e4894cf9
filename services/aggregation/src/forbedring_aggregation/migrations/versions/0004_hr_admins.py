"""The HR admins of each period, from directory-updated: they alone read the counts.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hr_admins",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("person_id", sa.String(), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("hr_admins")
