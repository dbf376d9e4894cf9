"""The read model: periods and their release schedule, unit results, directory.

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


def _at(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.create_table(
        "publication_periods",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("stage_1_delay_s", sa.Float(), nullable=True),
        sa.Column("stage_2_delay_s", sa.Float(), nullable=True),
        sa.Column("questionnaire", postgresql.JSONB(), nullable=True),
        sa.Column("unit_count", sa.Integer(), nullable=True),
        sa.Column("checksum", sa.String(), nullable=True),
        _at("finalized_at"),
        sa.Column("complete", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("postponed", sa.Boolean(), nullable=False, server_default=sa.false()),
        _at("stage_1_at"),
        _at("stage_2_at"),
        _at("stage_1_released_at"),
        _at("stage_2_released_at"),
    )
    op.create_table(
        "publication_unit_results",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "publication_directory_units",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("parent_id", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
    )
    op.create_table(
        "publication_role_assignments",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("person_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("role", sa.String(), primary_key=True),
    )
    op.create_index(
        "ix_role_assignments_person", "publication_role_assignments", ["period_id", "person_id"]
    )
    # The scheduler looks for complete periods with a stage still to release.
    op.create_index(
        "ix_periods_pending_release",
        "publication_periods",
        ["stage_1_at"],
        postgresql_where=sa.text("complete AND stage_2_released_at IS NULL"),
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
