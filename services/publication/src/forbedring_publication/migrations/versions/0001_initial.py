"""Initial schema: the chassis tables (outbox, processed events) and the service's own.

Revision ID: 0001
Revises:
"""

from forbedring_chassis.migrations import create_chassis_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_chassis_tables()


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
