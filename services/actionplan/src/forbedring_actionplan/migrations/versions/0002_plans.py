"""Plans: the copy of periods, directory and results; plans, dialogue, measures,
escalations, comments, history, versions and the reminder ledger.

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


def _at(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False, default: str | None = "") -> sa.Column:  # type: ignore[type-arg]
    if default is None:
        return sa.Column(name, sa.String(), nullable=nullable)
    return sa.Column(name, sa.String(), nullable=nullable, server_default=default)


def _flag(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


def upgrade() -> None:
    op.create_table(
        "actionplan_periods",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("plan_deadline", sa.Date(), nullable=True),
        _at("opens_at"),
        sa.Column("questionnaire", postgresql.JSONB(), nullable=True),
        sa.Column("unit_count", sa.Integer(), nullable=True),
        _at("stage_1_released_at"),
        _at("stage_2_released_at"),
        _flag("plans_opened"),
    )
    op.create_table(
        "actionplan_units",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("parent_id", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
    )
    op.create_table(
        "actionplan_people",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("person_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("role", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
    )
    op.create_index("actionplan_people_by_unit", "actionplan_people", ["period_id", "unit_id"])
    op.create_table(
        "actionplan_unit_results",
        sa.Column("period_id", sa.String(), primary_key=True),
        sa.Column("unit_id", sa.String(), primary_key=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "actionplan_plans",
        sa.Column("plan_id", sa.String(), primary_key=True),
        sa.Column("period_id", sa.String(), nullable=False, index=True),
        sa.Column("unit_id", sa.String(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        _flag("changed_since_version"),
        _text("focus_source", default="none"),
        _text("focus_source_unit_id", nullable=True, default=None),
        _at("opened_at", nullable=False),
        _at("updated_at", nullable=False),
        sa.UniqueConstraint("period_id", "unit_id"),
    )
    op.create_table(
        "actionplan_focus_areas",
        sa.Column("plan_id", sa.String(), primary_key=True),
        sa.Column("ref_id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("factor_id", sa.String(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        _text("decision", default="suggested"),
    )
    op.create_table(
        "actionplan_dialogue",
        sa.Column("entry_id", sa.String(), primary_key=True),
        sa.Column("plan_id", sa.String(), nullable=False, index=True),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        _text("note"),
        sa.Column("recorded_by", sa.String(), nullable=False),
        _at("recorded_at", nullable=False),
    )
    op.create_table(
        "actionplan_measures",
        sa.Column("measure_id", sa.String(), primary_key=True),
        sa.Column("plan_id", sa.String(), nullable=False, index=True),
        sa.Column("category", sa.String(), nullable=False),
        _text("linked_id", nullable=True, default=None),
        sa.Column("title", sa.String(), nullable=False),
        _text("description"),
        _text("responsible_person_id", nullable=True, default=None),
        sa.Column("deadline", sa.Date(), nullable=True),
        _text("desired_effect"),
        _text("extra_resources"),
        _flag("continued"),
        _text("status", default="planned"),
        _text("cancel_reason", nullable=True, default=None),
        sa.Column("done_on", sa.Date(), nullable=True),
        _text("evaluation_done"),
        _text("evaluation_observed"),
        _text("evaluation_decision", nullable=True, default=None),
        _text("origin_measure_id", nullable=True, default=None),
        _text("carried_from_measure_id", nullable=True, default=None),
        _text("escalated_to_measure_id", nullable=True, default=None),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        _at("created_at", nullable=False),
    )
    op.create_index("actionplan_measures_open_by_deadline", "actionplan_measures", ["deadline"])
    op.create_table(
        "actionplan_escalations",
        sa.Column("escalation_id", sa.String(), primary_key=True),
        sa.Column("measure_id", sa.String(), nullable=False, index=True),
        sa.Column("from_plan_id", sa.String(), nullable=False),
        sa.Column("to_plan_id", sa.String(), nullable=False, index=True),
        sa.Column("reason", sa.String(), nullable=False),
        _text("status", default="pending"),
        sa.Column("escalated_by", sa.String(), nullable=False),
        _at("escalated_at", nullable=False),
        _text("decided_by", nullable=True, default=None),
        _at("decided_at"),
        _text("decline_reason", nullable=True, default=None),
        _text("to_measure_id", nullable=True, default=None),
    )
    op.create_table(
        "actionplan_comments",
        sa.Column("comment_id", sa.String(), primary_key=True),
        sa.Column("plan_id", sa.String(), nullable=False, index=True),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        _at("at", nullable=False),
    )
    op.create_table(
        "actionplan_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("plan_id", sa.String(), nullable=False, index=True),
        _at("at", nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        _text("measure_id", nullable=True, default=None),
    )
    op.create_table(
        "actionplan_versions",
        sa.Column("plan_id", sa.String(), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("completed_by", sa.String(), nullable=False),
        _at("completed_at", nullable=False),
        sa.Column("snapshot", postgresql.JSONB(), nullable=False),
    )
    op.create_table(
        "actionplan_reminders",
        sa.Column("subject_id", sa.String(), primary_key=True),
        sa.Column("deadline", sa.Date(), primary_key=True),
        sa.Column("threshold", sa.Integer(), primary_key=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        _at("at", nullable=False),
    )
    # Versions are immutable: the database refuses to change or delete one.
    op.execute(
        """
        CREATE FUNCTION actionplan_versions_immutable() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION 'a completed plan version is immutable';
        END $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER actionplan_versions_immutable BEFORE UPDATE OR DELETE
          ON actionplan_versions FOR EACH ROW EXECUTE FUNCTION actionplan_versions_immutable();
        """
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")
