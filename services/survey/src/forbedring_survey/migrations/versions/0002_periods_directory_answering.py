"""Periods, the imported directory, invitations and anonymous responses.

Replaces the walking skeleton's `responses` table. Nothing here orders or dates a
response: no serial ids, no timestamps finer than a date, no person on a response or a
background row, and nothing shared between a response and its background variables.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("responses")
    op.create_table(
        "periods",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_1_delay_s", sa.BigInteger, nullable=False),
        sa.Column("stage_2_delay_s", sa.BigInteger, nullable=False),
        sa.Column("plan_deadline", sa.Date, nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("sensitive_k", sa.Integer, nullable=False),
        sa.Column("questionnaire_version", sa.String(64), nullable=False),
        sa.Column("questionnaire_checksum", sa.String, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("organisation_imported", sa.Boolean, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('scheduled', 'open', 'closed')", name="period_status"),
        sa.CheckConstraint("closes_at > opens_at", name="period_closes_after_opening"),
    )
    op.create_index(
        "one_open_period_per_organisation",
        "periods",
        ["organisation_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "units",
        sa.Column("period_id", sa.String(64), sa.ForeignKey("periods.id"), primary_key=True),
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("eligible", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("period_id", sa.String(64), sa.ForeignKey("periods.id"), primary_key=True),
        sa.Column("employee_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
    )
    op.create_table(
        "roles",
        sa.Column("period_id", sa.String(64), sa.ForeignKey("periods.id"), primary_key=True),
        sa.Column("employee_id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
    )
    op.create_index("roles_by_employee", "roles", ["employee_id", "role"])
    # The participation record: who may answer for which unit, and whether they have.
    # No time of answering, deliberately.
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("period_id", sa.String(64), sa.ForeignKey("periods.id"), nullable=False),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.UniqueConstraint("period_id", "employee_id", "unit_id"),
    )
    op.create_index("invitations_by_employee", "invitations", ["employee_id"])
    op.create_index("invitations_by_unit", "invitations", ["period_id", "unit_id"])
    # Responses waiting until their unit has k of them (or the period closes). No foreign
    # keys: nothing to lock against, nothing to join.
    for name in ("pending_responses", "responses"):
        op.create_table(
            name,
            sa.Column("id", sa.Uuid, primary_key=True),
            sa.Column("period_id", sa.String(64), nullable=False),
            sa.Column("unit_id", sa.String(64), nullable=False),
            sa.Column("questionnaire_version", sa.String(64), nullable=False),
            sa.Column("answers", JSONB, nullable=False),
            *([sa.Column("released_on", sa.Date, nullable=False)] if name == "responses" else []),
        )
        op.create_index(f"{name}_by_unit", name, ["period_id", "unit_id"])
    # Background variables: apart from the answers, own random ids, same release batches.
    for name in ("pending_background", "background_answers"):
        op.create_table(
            name,
            sa.Column("id", sa.Uuid, primary_key=True),
            sa.Column("period_id", sa.String(64), nullable=False),
            sa.Column("unit_id", sa.String(64), nullable=False),
            sa.Column("answers", JSONB, nullable=False),
        )
        op.create_index(f"{name}_by_unit", name, ["period_id", "unit_id"])
    # The counts last sent as participation-changed, per unit.
    op.create_table(
        "participation_sent",
        sa.Column("period_id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("respondents", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
