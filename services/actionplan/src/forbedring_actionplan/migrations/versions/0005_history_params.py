"""History entries as a code and parameters, shown in the reader's language: `params`
(JSON); `summary` stays for the rows written before, in English, and is null after.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("actionplan_history", sa.Column("params", JSONB(), nullable=True))
    op.alter_column("actionplan_history", "summary", nullable=True)


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
