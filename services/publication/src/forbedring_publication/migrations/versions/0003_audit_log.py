"""The audit log of administrative actions (the chassis's shape: forbedring_chassis.audit).

Revision ID: 0003
Revises: 0002
"""

from forbedring_chassis.audit import create_audit_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table()


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
