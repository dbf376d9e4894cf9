"""The period copy (periods, units, people, roles, members), the delivery ledger and the
digest subscriptions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notification_periods",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=True),
        _at("opens_at"),
        _at("closes_at"),
        sa.Column("k", sa.Integer(), nullable=True),
        sa.Column("plan_deadline", sa.Date(), nullable=True),
        _at("closed_at"),
        sa.Column("has_directory", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("released", postgresql.JSONB(), nullable=False, server_default="[]"),
    )
    op.create_table(
        "notification_units",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("parent_id", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("respondents", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "notification_people",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("person_id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
    )
    op.create_table(
        "notification_roles",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("person_id", sa.String(), primary_key=True),
        sa.Column("role", sa.String(), primary_key=True),
    )
    op.create_table(
        "notification_members",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("person_id", sa.String(), primary_key=True),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("period_id", sa.String(), nullable=False),
        sa.Column("unit_id", sa.String(), nullable=True),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("context", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _at("next_attempt_at", nullable=False),
        _at("claimed_until"),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("subject", sa.String(), nullable=True),
        _at("created_at", nullable=False),
        _at("sent_at"),
    )
    # The relay's queue: pending rows in id order.
    op.create_index(
        "notification_deliveries_pending",
        "notification_deliveries",
        ["id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "notification_deliveries_sending",
        "notification_deliveries",
        ["claimed_until"],
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index(
        "notification_deliveries_log",
        "notification_deliveries",
        ["period_id", "kind", "status"],
    )
    op.create_table(
        "notification_subscriptions",
        sa.Column("person_id", sa.String(), primary_key=True),
        sa.Column("token", sa.String(), nullable=False, unique=True),
        sa.Column("digests", sa.Boolean(), nullable=False, server_default=sa.true()),
        _at("changed_at"),
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
